/*
 * Must NOT compile: the state library sits below copy, follow and
 * switchover, so their headers are not on its include path.
 */
#include "state.h"
#include "copy.h"

int			layering_probe(void);

int
layering_probe(void)
{
	return 0;
}
