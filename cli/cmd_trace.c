/* Placeholder until the trace command lands. */
#include "cli/cli.h"

int cmd_trace(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error("trace: not built yet");
}
