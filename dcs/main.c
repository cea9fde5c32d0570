/*
 * yaimd-dcs: the dcs child as an executable of its own, so that the
 * parent never maps libcurl or cJSON (DESIGN.md section 1).
 */
#include "helper_main.h"

void	dcs_main(int debug, int verbose) __attribute__((noreturn));

int
main(int argc, char *argv[])
{
	int	 debug, verbose;

	helper_args("dcs", argc, argv, &debug, &verbose);
	dcs_main(debug, verbose);
}
