/*
 * yaimd-checker: the checker child as an executable of its own, so that
 * the parent never maps libcurl or libpq (DESIGN.md section 1).
 */
#include "child.h"

void	checker_main(int debug, int verbose) __attribute__((noreturn));

int
main(int argc, char *argv[])
{
	int	 debug, verbose;

	child_args("checker", argc, argv, &debug, &verbose);
	checker_main(debug, verbose);
}
