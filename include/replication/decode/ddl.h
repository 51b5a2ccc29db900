/*
 * ddl.h
 *	  DDL carried in the stream: the events that sql/ddl_capture.sql emits on
 *	  the source as transactional logical messages (prefix 'pgcutover.ddl'),
 *	  and what follow does with each.  Pure: JSON text in, decisions and SQL
 *	  text out, no libpq, so every rule is unit-tested.
 *
 *	  The captured command is the client's whole query string, which may
 *	  hold several statements (psql -c "BEGIN; ALTER ...; INSERT ...").
 *	  Replaying the string would apply its DML twice, so the one statement
 *	  that fired the event is cut out: the string is split with a lexer
 *	  that knows quotes, dollar quotes, comments and BEGIN ATOMIC bodies;
 *	  the statement must carry the event's command tag and name one of its
 *	  objects (or the table of an index or constraint).  Several such
 *	  statements are told apart by their order, unless the string rolls
 *	  back part of itself: then follow stops, as it does for DDL run from
 *	  inside a function or DO block (no statement matches).
 */
#ifndef PGCUTOVER_DDL_H
#define PGCUTOVER_DDL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define DDL_MESSAGE_PREFIX "pgcutover.ddl"
#define DDL_MESSAGE_END_PREFIX "pgcutover.ddl_end"

typedef struct DdlObject
{
	char	   *type;			/* "table", "index", "table column", ... */
	char	   *schema;			/* NULL for objects outside schemas */
	char	   *identity;		/* object_identity, quoted as needed */
	char	   *parent;			/* table of an index, constraint, trigger */
	bool		dropped;
} DdlObject;

/* A column the command added with a default computed once (attmissingval). */
typedef struct DdlMissing
{
	char	   *schema;
	char	   *table;
	char	   *column;
	char	   *value;			/* attmissingval as array text */
} DdlMissing;

typedef struct DdlEvent
{
	char	   *command;		/* the whole query string */
	char	   *tag;			/* command tag */
	char	   *exec;			/* identifies one execution of a query string */
	int			seq;			/* 1 for its first DDL, 2 for the next, ... */
	char	   *search_path;
	char	   *role;
	char	   *error;			/* capture failed on the source */
	DdlObject  *objects;
	int			nobjects;
	DdlMissing *missing;
	int			nmissing;
	int			rewrite_reasons;	/* OR of every table_rewrite reason */
	char	   *rewritten;		/* a table rewritten for a volatile default */
} DdlEvent;

/* Parses a message's content; false with *errmsg (malloc'd) on bad input. */
bool		ddl_event_parse(const char *json, size_t len, DdlEvent *ev, char **errmsg);
void		ddl_event_free(DdlEvent *ev);

/* One statement of a query string: offsets, without the ';' or blanks around. */
typedef struct DdlSpan
{
	size_t		start;
	size_t		len;
} DdlSpan;

/* Splits sql into statements (empty ones dropped); returns how many, *out malloc'd. */
int			ddl_split(const char *sql, DdlSpan **out);

/* Could this statement carry this command tag? */
bool		ddl_tag_matches(const char *stmt, size_t len, const char *tag);

/* Where follow is inside a multi-statement query string. */
typedef struct DdlCursor
{
	char	   *exec;
	int			seq;			/* of the last event seen in it */
	int			statement;		/* index of that event's statement */
} DdlCursor;

/* Does the statement name one of the event's objects (or their tables)? */
bool		ddl_statement_names_object(const char *stmt, size_t len, const DdlEvent *ev);

/*
 * The statement to replay for ev, malloc'd; CONCURRENTLY dropped where it
 * cannot run in a transaction block.  NULL with *errmsg when the statement
 * cannot be told for sure.
 */
char	   *ddl_pick_statement(DdlCursor *cur, const DdlEvent *ev, char **errmsg);
void		ddl_cursor_free(DdlCursor *cur);

typedef enum DdlVerdict
{
	DDL_APPLY,
	DDL_SKIP,
	DDL_STOP
} DdlVerdict;

/* Is (schema, table) in the migrated set?  table NULL: the schema at all. */
typedef bool (*DdlSelectedFn) (void *arg, const char *schema, const char *table);

typedef struct DdlPolicy
{
	const regex_t *exclude;		/* --ddl-exclude, or NULL */
	DdlSelectedFn selected;
	void	   *arg;
} DdlPolicy;

/* Decides; *reason (malloc'd) says why for SKIP and STOP. */
DdlVerdict	ddl_classify(const DdlEvent *ev, const DdlPolicy *policy, char **reason);

/* Splits a qualified identity ("s"."t" or s.t.c) into at most n dequoted parts. */
int			ddl_split_identity(const char *identity, char **parts, int n);

/* A short description for logs: tag and first object, never the command text. */
char	   *ddl_describe(const DdlEvent *ev);

#endif							/* PGCUTOVER_DDL_H */
