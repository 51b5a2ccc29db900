/*
 * pgversion.c
 *	  Version-dependent choices (pgversion.h): pure, so unit-tested.
 */
#include "pgversion.h"

const char *
emit_message_signature(int major)
{
	if (major >= 17)
		return "pg_catalog.pg_logical_emit_message(boolean, text, text, boolean)";
	return "pg_catalog.pg_logical_emit_message(boolean, text, text)";
}

int
pg_dump_choose_major(const int *installed, int ninstalled, int source_major, int target_major)
{
	int			best = 0;

	for (int i = 0; i < ninstalled; i++)
		if (installed[i] >= source_major && installed[i] <= target_major && installed[i] > best)
			best = installed[i];
	return best;
}
