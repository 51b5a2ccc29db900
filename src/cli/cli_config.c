/*
 * cli_config.c
 *	  --config FILE: options read from "key = value" lines before the
 *	  command line, which wins.
 */
#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <string.h>

#include "cli_int.h"

static bool
parse_bool(const char *v, bool *out)
{
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return false;
	return true;
}

/*
 * Applies a config file: "key = value" lines named like the long options,
 * '#' comments, values optionally in single or double quotes, flags as
 * true/false.  Keys that do not apply to cmd are skipped, so one file can
 * serve every command; the command line, parsed afterwards, wins.
 */
bool
cli_apply_config(const char *path, const Command *cmd, Options *opts, FILE *err)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;
	bool		ok = true;

	if (f == NULL)
	{
		fprintf(err, "pgcutover: cannot read --config %s: %s; fix: give a readable file\n", path, strerror(errno));
		return false;
	}
	while (ok && fgets(line, sizeof(line), f))
	{
		char	   *key = line,
				   *eq,
				   *val,
				   *end;
		const OptSpec *o;

		lineno++;
		while (isspace((unsigned char) *key))
			key++;
		if (*key == '#' || *key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL)
		{
			fprintf(err, "pgcutover: %s:%d: expected key = value; fix: correct the line\n", path, lineno);
			ok = false;
			break;
		}
		for (end = eq; end > key && isspace((unsigned char) end[-1]); end--)
			;
		*end = '\0';
		for (val = eq + 1; isspace((unsigned char) *val); val++)
			;
		for (end = val + strlen(val); end > val && isspace((unsigned char) end[-1]); end--)
			;
		*end = '\0';
		if (end - val >= 2 && (val[0] == '\'' || val[0] == '"') && end[-1] == val[0])
		{
			end[-1] = '\0';
			val++;
		}
		for (o = cli_optspecs(); o->name && strcmp(o->name, key) != 0; o++)
			;
		if (o->name == NULL || o->commands == 0 || o->code == O_CONFIG || o->code == O_HELP || o->code == O_VERSION)
		{
			fprintf(err, "pgcutover: %s:%d: unknown option \"%s\"; fix: use long option names without --\n", path, lineno, key);
			ok = false;
		}
		else if (cmd && !(o->commands & cli_command_bit(cmd)))
			continue;
		else if (o->has_arg == ARG_NONE)
		{
			bool		on;

			if (!parse_bool(val, &on))
			{
				fprintf(err, "pgcutover: %s:%d: %s takes true or false; fix: correct the value\n", path, lineno, key);
				ok = false;
			}
			else if (on)
				ok = cli_take_option(o, NULL, opts, err);
		}
		else
			ok = cli_take_option(o, val, opts, err);
	}
	fclose(f);
	return ok;
}
