/*
 * clidoc.c
 *	  The man page and the bash completion, written from the command and
 *	  option tables (cli.c) by the hidden `pgcutover --generate=man|
 *	  bash-completion`.  The build writes both into the build tree and a test
 *	  compares them with docs/pgcutover.1 and docs/pgcutover.bash, so what
 *	  the parser accepts, --help, the man page and the completion cannot
 *	  drift apart.  The man page's prose (DESCRIPTION, ENVIRONMENT, FILES,
 *	  EXAMPLES) is docs/pgcutover.1.in, embedded at build time; its @NAME@
 *	  lines are replaced by the generated sections.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli_int.h"

/* docs/pgcutover.1.in, embedded by cmake/embed_text.cmake */
extern const char pgcutover_man_template[];

/* Writes text escaped for roff: no line may start with a control character. */
static void
roff_escape(FILE *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		char		c = text[i];

		if ((i == 0 || text[i - 1] == '\n') && (c == '.' || c == '\''))
			fputs("\\&", out);
		if (c == '\\')
			fputs("\\e", out);
		else if (c == '-')
			fputs("\\-", out);
		else
			fputc(c, out);
	}
}

/* Plain text as roff paragraphs: a blank line starts a new one. */
static void
roff_paragraphs(FILE *out, const char *text)
{
	const char *p = text;

	while (*p)
	{
		size_t		len = strcspn(p, "\n");

		if (len == 0)
			fputs(".PP\n", out);
		else
		{
			roff_escape(out, p, len);
			fputc('\n', out);
		}
		p += len + (p[len] == '\n');
	}
}

/* A one-line help as a sentence: capital first letter, final full stop. */
static void
roff_sentence(FILE *out, const char *text)
{
	size_t		len = strlen(text);

	fputc(toupper((unsigned char) text[0]), out);
	roff_escape(out, text + 1, len - 1);
	fputs(text[len - 1] == '.' ? "\n" : ".\n", out);
}

/* ".TP" and the tag: \fB\-j\fR, \fB\-\-jobs\fR \fIN\fR */
static void
roff_option_tag(FILE *out, const OptSpec *o)
{
	fputs(".TP\n", out);
	if (o->short_name)
		fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
	fputs("\\fB\\-\\-", out);
	roff_escape(out, o->name, strlen(o->name));
	fputs("\\fR", out);
	if (o->has_arg == ARG_NONE)
	{
		fputc('\n', out);
		return;
	}
	fputs(o->has_arg == ARG_OPTIONAL ? " [" : " ", out);
	if (o->kind == VAL_MODE)
	{
		for (const char *m = o->arg; *m;)
		{
			size_t		len = strcspn(m, "|");

			fputs("\\fB", out);
			roff_escape(out, m, len);
			fputs("\\fR", out);
			m += len;
			if (*m == '|')
			{
				fputc('|', out);
				m++;
			}
		}
	}
	else
	{
		fputs("\\fI", out);
		roff_escape(out, o->arg, strlen(o->arg));
		fputs("\\fR", out);
	}
	fputs(o->has_arg == ARG_OPTIONAL ? "]\n" : "\n", out);
}

static void
roff_option(FILE *out, const OptSpec *o, unsigned bits)
{
	const char *help,
			   *more;

	cli_option_text(o, bits, &help, &more);
	roff_option_tag(out, o);
	roff_sentence(out, help);
	if (more)
		roff_paragraphs(out, more);
}

static void
man_commands(FILE *out)
{
	fputs(".SH COMMANDS\n", out);
	for (const Command *c = cli_commands(); c->name; c++)
	{
		unsigned	bit = cli_command_bit(c);
		bool		any = false;

		fputs(".SS \"", out);
		roff_escape(out, c->name, strlen(c->name));
		if (c->words)
		{
			fputc(' ', out);
			roff_escape(out, c->words, strlen(c->words));
		}
		fputs("\"\n", out);
		roff_sentence(out, c->summary);
		fputs(".PP\n", out);
		roff_paragraphs(out, c->usage);
		if (c->terms)
		{
			fputs(".PP\nStates:\n", out);
			for (const CliTerm *t = c->terms; t->word; t++)
			{
				fputs(".TP\n.B ", out);
				roff_escape(out, t->word, strlen(t->word));
				fputc('\n', out);
				roff_sentence(out, t->meaning);
			}
		}
		for (const OptSpec *o = cli_optspecs(); o->name; o++)
		{
			if (o->commands == C_ALL || !(o->commands & bit))
				continue;
			if (!any)
			{
				fputs(".PP\nOptions of ", out);
				roff_escape(out, c->name, strlen(c->name));
				fputs(", besides the common options:\n", out);
				any = true;
			}
			roff_option(out, o, bit);
		}
		if (!any)
			fputs(".PP\nIt takes the common options only.\n", out);
	}
}

static void
man_common_options(FILE *out)
{
	fputs(".SH \"COMMON OPTIONS\"\nEvery command takes these, before or after the command word.\n", out);
	for (const OptSpec *o = cli_optspecs(); o->name; o++)
		if (o->commands == C_ALL)
			roff_option(out, o, C_ALL);
}

static void
man_exit_status(FILE *out)
{
	fputs(".SH \"EXIT STATUS\"\n", out);
	for (const ExitCodeDoc *e = exit_code_docs(); e->meaning; e++)
	{
		fprintf(out, ".TP\n%d\n", e->code);
		roff_escape(out, e->meaning, strlen(e->meaning));
		fputc('\n', out);
	}
}

static void
man_command_list(FILE *out)
{
	fputs(".BR", out);
	for (const Command *c = cli_commands(); c->name; c++)
	{
		fputs(" ", out);
		roff_escape(out, c->name, strlen(c->name));
		fputs(c[1].name ? " \", \"" : " .\n", out);
	}
}

/* Whether the template line p (len bytes) is the marker name. */
static bool
is_marker(const char *p, size_t len, const char *name)
{
	return len == strlen(name) && strncmp(p, name, len) == 0;
}

static void
write_man(FILE *out)
{
	const char *p = pgcutover_man_template;

	fputs(".\\\" Generated by 'pgcutover --generate=man' from docs/pgcutover.1.in and the\n"
		  ".\\\" tables in src/cli/cli.c: do not edit, change those.\n", out);
	while (*p)
	{
		size_t		len = strcspn(p, "\n");

		if (strncmp(p, ".\\\"", 3) == 0)
			;					/* the template's own comments */
		else if (is_marker(p, len, "@COMMANDS@"))
			man_commands(out);
		else if (is_marker(p, len, "@COMMON_OPTIONS@"))
			man_common_options(out);
		else if (is_marker(p, len, "@EXIT_STATUS@"))
			man_exit_status(out);
		else if (is_marker(p, len, "@COMMAND_LIST@"))
			man_command_list(out);
		else if (strncmp(p, ".TH ", 4) == 0)
			fprintf(out, "%.*s \"pgcutover %s\" \"User Commands\"\n", (int) len, p, PGCUTOVER_VERSION);
		else
			fprintf(out, "%.*s\n", (int) len, p);
		p += len + (p[len] == '\n');
	}
}

/*
 * The long names of the options for which want(o, bits) holds, separated by
 * spaces, or with with_short (a case pattern) their short forms too and "|".
 */
static void
words_of(FILE *out, bool (*want) (const OptSpec *o, unsigned bits), unsigned bits, bool with_short)
{
	bool		first = true;

	for (const OptSpec *o = cli_optspecs(); o->name; o++)
	{
		if (o->commands == 0 || !want(o, bits))
			continue;
		if (with_short && o->short_name)
		{
			fprintf(out, "%s-%c", first ? "" : "|", o->short_name);
			first = false;
		}
		fprintf(out, "%s--%s", first ? "" : with_short ? "|" : " ", o->name);
		first = false;
	}
}

static bool
is_common(const OptSpec *o, unsigned bits)
{
	(void) bits;
	return o->commands == C_ALL;
}

static bool
is_of_command(const OptSpec *o, unsigned bits)
{
	return o->commands != C_ALL && (o->commands & bits);
}

static bool
completes_nothing(const OptSpec *o, unsigned bits)
{
	(void) bits;
	return o->has_arg == ARG_REQUIRED && (o->kind != VAL_FILE && o->kind != VAL_DIR && o->kind != VAL_MODE);
}

static bool
is_kind(const OptSpec *o, unsigned kind)
{
	return o->has_arg == ARG_REQUIRED && o->kind == (ValueKind) kind;
}

static void
write_bash(FILE *out)
{
	fputs("# bash completion for pgcutover                        -*- shell-script -*-\n"
		  "# Generated by 'pgcutover --generate=bash-completion' from the option\n"
		  "# table in src/cli/cli.c: do not edit, change the table.\n"
		  "_pgcutover()\n{\n"
		  "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
		  "    local commands=\"", out);
	for (const Command *c = cli_commands(); c->name; c++)
		fprintf(out, "%s%s", c == cli_commands() ? "" : " ", c->name);
	fputs("\"\n    local takes_arg=\" ", out);
	for (const OptSpec *o = cli_optspecs(); o->name; o++)
		if (o->commands && o->has_arg == ARG_REQUIRED)
		{
			if (o->short_name)
				fprintf(out, "-%c ", o->short_name);
			fprintf(out, "--%s ", o->name);
		}
	fputs("\"\n    local opts=\"", out);
	words_of(out, is_common, C_ALL, false);
	fputs("\"\n    local cmd= w i\n"
		  "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
		  "        w=${COMP_WORDS[i]}\n"
		  "        if [[ $takes_arg == *\" $w \"* ]]; then\n"
		  "            ((i++))\n"
		  "        elif [[ $w != -* ]]; then\n"
		  "            case \" $commands \" in *\" $w \"*) cmd=$w; break ;; esac\n"
		  "        fi\n"
		  "    done\n"
		  "    case $prev in\n", out);

	/* after an option that takes a value: that value's completion, or nothing */
	fputs("        ", out);
	words_of(out, completes_nothing, 0, true);
	fputs(") COMPREPLY=(); return ;;\n", out);
	{
		bool		any_file = false,
					any_dir = false;

		for (const OptSpec *o = cli_optspecs(); o->name; o++)
		{
			any_file |= o->commands && is_kind(o, VAL_FILE);
			any_dir |= o->commands && is_kind(o, VAL_DIR);
		}
		for (int pass = 0; pass < 2; pass++)
		{
			bool		first = true;

			if (!(pass == 0 ? any_file : any_dir))
				continue;
			fputs("        ", out);
			for (const OptSpec *o = cli_optspecs(); o->name; o++)
				if (o->commands && is_kind(o, pass == 0 ? VAL_FILE : VAL_DIR))
				{
					fprintf(out, "%s--%s", first ? "" : "|", o->name);
					first = false;
				}
			fprintf(out, ") COMPREPLY=($(compgen -%c -- \"$cur\")); return ;;\n", pass == 0 ? 'f' : 'd');
		}
	}
	for (const OptSpec *o = cli_optspecs(); o->name; o++)
		if (o->commands && is_kind(o, VAL_MODE))
		{
			fprintf(out, "        --%s) COMPREPLY=($(compgen -W \"", o->name);
			for (const char *m = o->arg; *m; m++)
				fputc(*m == '|' ? ' ' : *m, out);
			fputs("\" -- \"$cur\")); return ;;\n", out);
		}
	fputs("    esac\n    case $cmd in\n", out);
	for (const Command *c = cli_commands(); c->name; c++)
	{
		bool		any = false;

		for (const OptSpec *o = cli_optspecs(); o->name && !any; o++)
			any = is_of_command(o, cli_command_bit(c));
		if (!any)
			continue;
		fprintf(out, "        %s) opts=\"$opts ", c->name);
		words_of(out, is_of_command, cli_command_bit(c), false);
		fputs("\" ;;\n", out);
	}
	fputs("    esac\n"
		  "    if [[ $cur == -* ]]; then\n"
		  "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
		  "    elif [[ -z $cmd ]]; then\n"
		  "        COMPREPLY=($(compgen -W \"$commands help\" -- \"$cur\"))\n", out);
	for (const Command *c = cli_commands(); c->name; c++)
		if (c->words)
		{
			fprintf(out, "    elif [[ $cmd == %s ]]; then\n        COMPREPLY=($(compgen -W \"", c->name);
			for (const char *m = c->words; *m; m++)
				fputc(*m == '|' ? ' ' : *m, out);
			fputs("\" -- \"$cur\"))\n", out);
		}
	fputs("    else\n"
		  "        COMPREPLY=()\n"
		  "    fi\n"
		  "} && complete -F _pgcutover pgcutover\n", out);
}

bool
cli_generate(FILE *out, const char *what)
{
	if (strcmp(what, "man") == 0)
		write_man(out);
	else if (strcmp(what, "bash-completion") == 0)
		write_bash(out);
	else
		return false;
	return true;
}
