/*
 * Must compile: the control for the probes beside it (the pure library may
 * use the libpq-free part of common and its own headers).
 */
#include "alloc.h"
#include "decoder.h"
#include "ddl.h"
#include "apply_sql.h"

int			layering_probe(void);

int
layering_probe(void)
{
	return (int) sizeof(Change);
}
