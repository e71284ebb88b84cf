/* Placeholder until the memory command lands. */
#include "cli/cli.h"

int cmd_memory(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error("memory: not built yet");
}
