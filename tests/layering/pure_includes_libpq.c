/*
 * Must NOT compile: the pure library (decoder, DDL lexer, statement shapes)
 * has no libpq on its include path.  tests/CMakeLists.txt expects the build
 * of this file to fail with libpq-fe.h not found.
 */
#include <libpq-fe.h>
#include "decoder.h"

int			layering_probe(void);

int
layering_probe(void)
{
	return PQlibVersion();
}
