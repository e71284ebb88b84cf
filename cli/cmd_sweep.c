/* Placeholder until the sweep command lands. */
#include "cli/cli.h"

int cmd_sweep(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error("sweep: not built yet");
}
