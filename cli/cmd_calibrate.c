/* Placeholder until the calibrate command lands. */
#include "cli/cli.h"

int cmd_calibrate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error("calibrate: not built yet");
}
