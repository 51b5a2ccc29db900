/*
 * lsn.h
 *	  WAL positions: parsing and printing PostgreSQL's "X/Y" notation.
 */
#ifndef PGCUTOVER_LSN_H
#define PGCUTOVER_LSN_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t Lsn;

#define INVALID_LSN ((Lsn) 0)
#define LSN_FORMAT_LEN 20

/* Parses "16/B374D848"; false on anything else. */
bool		lsn_parse(const char *s, Lsn *out);

/* Writes "16/B374D848" into buf (at least LSN_FORMAT_LEN bytes); returns buf. */
char	   *lsn_format(Lsn lsn, char *buf);

#endif
