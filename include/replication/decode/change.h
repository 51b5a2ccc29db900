/*
 * change.h
 *	  The neutral change record: what every decoder produces and what apply
 *	  consumes.  Nothing here is specific to wal2json (see decoder.h for
 *	  what that plugin's output means for the fields), so apply knows change
 *	  records, never the plugin.
 */
#ifndef PGCUTOVER_CHANGE_H
#define PGCUTOVER_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lsn.h"

typedef enum ChangeAction
{
	CHANGE_BEGIN = 'B',
	CHANGE_COMMIT = 'C',
	CHANGE_INSERT = 'I',
	CHANGE_UPDATE = 'U',
	CHANGE_DELETE = 'D',
	CHANGE_TRUNCATE = 'T',
	CHANGE_MESSAGE = 'M'
} ChangeAction;

typedef struct ChangeColumn
{
	const char *name;
	const char *type;			/* type name as printed by wal2json, with
								 * typmod, e.g. "character varying(10)";
								 * NULL when absent */
	uint32_t	typeoid;		/* 0 when absent */
	const char *value;			/* text form for the type's input function;
								 * NULL = SQL NULL (or NaN/Inf: decoder.h) */
	size_t		value_len;
} ChangeColumn;

typedef struct Change
{
	ChangeAction action;
	uint32_t	xid;			/* 0 when null/absent */
	Lsn			lsn;			/* 0 when absent */
	Lsn			nextlsn;		/* B and C only, else 0 */
	const char *timestamp;		/* may be NULL */
	const char *schema;			/* I U D T */
	const char *table;
	ChangeColumn *columns;		/* I U: new tuple */
	int			ncolumns;
	ChangeColumn *identity;		/* U D: old key (or whole old row for REPLICA
								 * IDENTITY FULL); optional for U */
	int			nidentity;
	const char **pk;			/* names of primary key columns, in order */
	int			npk;
	bool		transactional;	/* M */
	const char *prefix;			/* M */
	const char *content;		/* M */
	size_t		content_len;
} Change;

/* The column called name in a row image, or NULL. */
static inline const ChangeColumn *
change_column(const ChangeColumn *cols, int ncols, const char *name)
{
	for (int i = 0; i < ncols; i++)
		if (strcmp(cols[i].name, name) == 0)
			return &cols[i];
	return NULL;
}

#endif							/* PGCUTOVER_CHANGE_H */
