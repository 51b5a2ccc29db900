/*
 * lsn.c
 *	  WAL position parsing and printing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "lsn.h"

bool
lsn_parse(const char *s, Lsn *out)
{
	unsigned long hi,
				lo;
	int			n = 0;

	if (s == NULL || !isxdigit((unsigned char) s[0]))
		return false;
	if (sscanf(s, "%8lX/%8lX%n", &hi, &lo, &n) != 2 || s[n] != '\0')
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
