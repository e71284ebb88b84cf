/* Placeholder until the step command lands. */
#include "cli/cli.h"

int cmd_step(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error("step: not built yet");
}
