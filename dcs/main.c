/*
 * yaimd-dcs: the dcs child as an executable of its own, so that the
 * parent never maps libcurl or cJSON (DESIGN.md section 1).
 */
#include "child.h"

void	dcs_main(int debug, int verbose) __attribute__((noreturn));

int
main(int argc, char *argv[])
{
	int	 debug, verbose;

	child_args("dcs", argc, argv, &debug, &verbose);
	dcs_main(debug, verbose);
}
