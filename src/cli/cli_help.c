/*
 * cli_help.c
 *	  --help: the commands, or one command's usage, states and options, as
 *	  the tables in cli.c describe them, wrapped at 79 columns, and the
 *	  exit codes (exitcode.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli_int.h"

/*
 * Prints text wrapped at 79 columns, the cursor being at column col, and
 * continuation lines indented to that column.
 */
static void
print_wrapped(FILE *out, const char *text, int col)
{
	int			indent = col;
	const char *p = text;

	while (*p)
	{
		const char *w = p;
		int			len;

		while (*w == ' ')
			w++;
		len = (int) strcspn(w, " ");
		if (len == 0)
			break;
		if (col > indent && col + 1 + len > 79)
		{
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		}
		else if (col > indent)
		{
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", len, w);
		col += len;
		p = w + len;
	}
	fputc('\n', out);
}

/* "-j, --jobs N", "--watch [DURATION]" */
static void
option_synopsis(const OptSpec *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s%c%s--%s%s%s%s%s",
			 o->short_name ? "-" : "", o->short_name ? o->short_name : ' ',
			 o->short_name ? ", " : "", o->name,
			 o->has_arg == ARG_NONE ? "" : " ",
			 o->has_arg == ARG_OPTIONAL ? "[" : "",
			 o->has_arg == ARG_NONE ? "" : o->arg,
			 o->has_arg == ARG_OPTIONAL ? "]" : "");
	if (!o->short_name)
		memmove(buf, buf + 1, strlen(buf));
}

void
cli_print_help(FILE *out, const Command *cmd)
{
	unsigned	bits = cmd ? cli_command_bit(cmd) : C_ALL;

	if (cmd == NULL)
	{
		fprintf(out, "pgcutover %s - move a live PostgreSQL database with near-zero downtime\n\n"
				"Usage: pgcutover [options] COMMAND [options]\n\nCommands:\n",
				PGCUTOVER_VERSION);
		for (const Command *c = cli_commands(); c->name; c++)
			fprintf(out, "  %-11s %s\n", c->name, c->summary);
		fprintf(out, "\nCommon options:\n");
	}
	else
	{
		fprintf(out, "pgcutover %s - %s\n\nUsage: pgcutover %s%s%s [options]\n\n%s",
				cmd->name, cmd->summary, cmd->name, cmd->words ? " " : "",
				cmd->words ? cmd->words : "", cmd->usage);
		if (cmd->terms)
		{
			fprintf(out, "\nStates:\n");
			for (const CliTerm *t = cmd->terms; t->word; t++)
			{
				fprintf(out, "  %-19s ", t->word);
				print_wrapped(out, t->meaning, 22);
			}
		}
		fprintf(out, "\nOptions:\n");
	}

	for (const OptSpec *o = cli_optspecs(); o->name; o++)
	{
		char		left[64];
		const char *help,
				   *more;
		int			col;

		if (cmd == NULL ? o->commands != C_ALL : !(o->commands & bits))
			continue;
		option_synopsis(o, left, sizeof(left));
		cli_option_text(o, bits, &help, &more);
		col = fprintf(out, "  %-28s ", left);
		if (col > 31)
			fprintf(out, "\n%31s", "");
		print_wrapped(out, help, 31);
	}
	fprintf(out, "\nDurations take PostgreSQL's units: 500ms, 30s, 5min, 2h, 1d; a bare number\n"
			"is seconds.  DSNs: libpq keyword strings, postgresql:// URIs or SQLAlchemy\n"
			"URLs; PG* environment variables, ~/.pgpass and services apply.\n\nExit codes:\n");
	for (const ExitCodeDoc *e = exit_code_docs(); e->meaning; e++)
	{
		fprintf(out, "  %2d  ", e->code);
		print_wrapped(out, e->meaning, 6);
	}
	if (cmd == NULL)
		fprintf(out, "\nRun 'pgcutover COMMAND --help' for the options of a command.\n");
}
