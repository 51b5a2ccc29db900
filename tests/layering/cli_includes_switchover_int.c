/*
 * Must NOT compile: a header private to one folder (switchover_int.h, the
 * state of one switchover run, shared by the files of src/switchover) is on no
 * library's include path, not even the cli's, which links everything.
 */
#include "switchover.h"
#include "switchover_int.h"

int			layering_probe(void);

int
layering_probe(void)
{
	return (int) sizeof(Switchover);
}
