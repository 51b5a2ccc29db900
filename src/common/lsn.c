/*
 * lsn.c
 *	  WAL position parsing and printing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "lsn.h"

/* Parses up to 8 hex digits ending at stop; returns the end or NULL. */
static const char *
parse_hex32(const char *s, char stop, uint32_t *out)
{
	uint32_t	v = 0;
	int			n = 0;

	for (; *s && *s != stop; s++, n++)
	{
		int			d = isdigit((unsigned char) *s) ? *s - '0'
			: (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
			: (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10 : -1;

		if (d < 0 || n == 8)
			return NULL;
		v = (v << 4) | (uint32_t) d;
	}
	if (n == 0)
		return NULL;
	*out = v;
	return s;
}

bool
lsn_parse(const char *s, Lsn *out)
{
	uint32_t	hi,
				lo;
	const char *p;

	if (s == NULL || (p = parse_hex32(s, '/', &hi)) == NULL || *p != '/' ||
		(p = parse_hex32(p + 1, '\0', &lo)) == NULL || *p != '\0')
		return false;
	*out = ((Lsn) hi << 32) | (Lsn) lo;
	return true;
}

char *
lsn_format(Lsn lsn, char *buf)
{
	snprintf(buf, LSN_FORMAT_LEN, "%X/%X", (unsigned) (lsn >> 32), (unsigned) lsn);
	return buf;
}
