/*
 * pgbouncer_ini.c
 *	  PgBouncer's ini file, as far as the switchover needs it: finding the
 *	  file that defines a [databases] entry (following %include) and
 *	  rewriting that entry's host, port and dbname in place, every other key
 *	  and line kept, atomically (temporary file, fsync, rename, the
 *	  directory fsynced), with the file's mode and owner and a backup of
 *	  its first version.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pgbouncer_ini.h"
#include "strbuf.h"

/* %include nesting PgBouncer itself accepts is small; so is ours. */
#define INI_MAX_INCLUDE_DEPTH 10
/* Longest section name, key or %include path read from an ini line. */
#define INI_WORD_LEN 1024

/* Where an entry is defined: the file, and the section its text starts in. */
typedef struct IniEntry
{
	char	   *path;
	char		start_section[INI_WORD_LEN];
} IniEntry;

static char *
read_text_file(const char *path)
{
	FILE	   *f = fopen(path, "r");
	StrBuf		text;
	size_t		n;
	char		buf[8192];

	if (f == NULL)
		return NULL;
	strbuf_init(&text);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_append_len(&text, buf, n);
	if (ferror(f))
		strbuf_free(&text);		/* leaves data NULL */
	fclose(f);
	return text.data;
}

/* Splits an ini line: a "[section]", a "%include path", or "key = value". */
typedef enum IniLineKind
{
	INI_OTHER,
	INI_SECTION,
	INI_INCLUDE,
	INI_KEY
} IniLineKind;

static IniLineKind
ini_parse_line(const char *line, size_t len, char *word, size_t wordsize,
			   const char **value, size_t *value_len)
{
	const char *p = line,
			   *end = line + len,
			   *w;
	size_t		wlen;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (p == end || *p == ';' || *p == '#')
		return INI_OTHER;
	if (*p == '[')
	{
		const char *close = memchr(p, ']', (size_t) (end - p));

		if (close == NULL)
			return INI_OTHER;
		snprintf(word, wordsize, "%.*s", (int) (close - p - 1), p + 1);
		return INI_SECTION;
	}
	if (strncmp(p, "%include", 8) == 0 && p + 8 < end && (p[8] == ' ' || p[8] == '\t'))
	{
		for (p += 8; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		snprintf(word, wordsize, "%.*s", (int) (end - p), p);
		return INI_INCLUDE;
	}
	for (w = p; p < end && *p != '=' && *p != ' ' && *p != '\t'; p++)
		;
	wlen = (size_t) (p - w);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != '=' || wlen == 0 || wlen >= wordsize)
		return INI_OTHER;
	memcpy(word, w, wlen);
	word[wlen] = '\0';
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	*value = p;
	*value_len = (size_t) (end - p);
	return INI_KEY;
}

/*
 * Finds the file that defines [databases] entry name, starting at path in
 * *section and following %include; *section is the section at its end.
 */
static bool
ini_find_entry(const char *path, const char *name, char *section, size_t sectionsize,
			   int depth, IniEntry *found)
{
	char	   *text = read_text_file(path);
	char		start[INI_WORD_LEN];
	bool		hit = false;

	if (text == NULL)
	{
		log_error("cannot read the PgBouncer ini file %s: %s; fix: give --pgbouncer-ini a readable file", path, strerror(errno));
		return false;
	}
	snprintf(start, sizeof(start), "%s", section);
	for (char *line = text; line && *line && !hit;)
	{
		char	   *nl = strchr(line, '\n');
		size_t		len = nl ? (size_t) (nl - line) : strlen(line);
		char		word[INI_WORD_LEN];
		const char *value;
		size_t		value_len;

		switch (ini_parse_line(line, len, word, sizeof(word), &value, &value_len))
		{
			case INI_SECTION:
				snprintf(section, sectionsize, "%s", word);
				break;
			case INI_INCLUDE:
				if (depth < INI_MAX_INCLUDE_DEPTH)
					hit = ini_find_entry(word, name, section, sectionsize, depth + 1, found);
				break;
			case INI_KEY:
				if (strcmp(section, "databases") == 0 && strcmp(word, name) == 0)
				{
					found->path = pg_strdup(path);
					snprintf(found->start_section, sizeof(found->start_section), "%s", start);
					hit = true;
				}
				break;
			case INI_OTHER:
				break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return hit;
}

/* Appends " key=value" to buf, quoting the value when it needs it. */
static void
append_pair(StrBuf *buf, const char *key, const char *value)
{
	bool		quote = value[0] == '\0' || strpbrk(value, " \t'\\") != NULL;

	strbuf_printf(buf, "%s%s=%s", buf->len ? " " : "", key, quote ? "'" : "");
	for (const char *p = value; *p; p++)
	{
		if (quote && (*p == '\'' || *p == '\\'))
			strbuf_append_len(buf, "\\", 1);
		strbuf_append_len(buf, p, 1);
	}
	if (quote)
		strbuf_append(buf, "'");
}

/*
 * The connection string of an entry with host, port and dbname replaced
 * (added when missing); every other pair is kept as written.
 */
static char *
connstr_repointed(const char *value, size_t len, const char *host, const char *port, const char *dbname)
{
	const char *p = value,
			   *end = value + len;
	StrBuf		out;
	bool		seen_host = false,
				seen_port = false,
				seen_dbname = false;

	strbuf_init(&out);
	while (p < end)
	{
		const char *key,
				   *val;
		size_t		keylen;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		for (key = p; p < end && *p != '=' && *p != ' ' && *p != '\t'; p++)
			;
		keylen = (size_t) (p - key);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == '=')
			for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
				;
		val = p;
		if (p < end && *p == '\'')
		{
			for (p++; p < end && *p != '\''; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p < end)
				p++;
		}
		else
			while (p < end && *p != ' ' && *p != '\t')
				p++;
		if (keylen == 4 && strncmp(key, "host", 4) == 0)
		{
			append_pair(&out, "host", host);
			seen_host = true;
		}
		else if (keylen == 4 && strncmp(key, "port", 4) == 0)
		{
			append_pair(&out, "port", port);
			seen_port = true;
		}
		else if (keylen == 6 && strncmp(key, "dbname", 6) == 0)
		{
			append_pair(&out, "dbname", dbname);
			seen_dbname = true;
		}
		else
			strbuf_printf(&out, "%s%.*s=%.*s", out.len ? " " : "", (int) keylen, key, (int) (p - val), val);
	}
	if (!seen_host)
		append_pair(&out, "host", host);
	if (!seen_port)
		append_pair(&out, "port", port);
	if (!seen_dbname)
		append_pair(&out, "dbname", dbname);
	return out.data;
}

/* Writes text to path through a temporary file, fsync and rename, with st's mode and owner. */
static bool
write_file_atomically(const char *path, const char *text, const struct stat *st)
{
	char	   *tmp = psprintf("%s.pgcutover-tmp", path);
	char	   *dir = pg_strdup(path);
	char	   *slash = strrchr(dir, '/');
	size_t		len = strlen(text);
	size_t		done = 0;
	bool		ok = false;
	int			fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		goto done;
	while (done < len)
	{
		ssize_t		n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto done;
		done += (size_t) n;
	}
	if (fchmod(fd, st->st_mode & 07777) < 0)
		goto done;
	if ((st->st_uid != geteuid() || st->st_gid != getegid()) && fchown(fd, st->st_uid, st->st_gid) < 0)
		goto done;
	if (fsync(fd) < 0)
		goto done;
	if (close(fd) < 0)
	{
		fd = -1;
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto done;
	if (slash)
		*slash = '\0';
	{
		int			dfd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_CLOEXEC);

		if (dfd >= 0)
		{
			(void) fsync(dfd);
			close(dfd);
		}
	}
	ok = true;
done:
	if (!ok)
	{
		int			saved = errno;

		log_error("cannot write %s atomically: %s; fix: let pgcutover's user write the file and its directory", path, strerror(saved));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(dir);
	free(tmp);
	return ok;
}

bool
pgbouncer_ini_repoint_entry(const char *ini_path, const char *name,
							const char *host, const char *port, const char *dbname, StrList *backed_up)
{
	IniEntry	entry = {0};
	char		section[INI_WORD_LEN] = "";
	char	   *text = NULL;
	StrBuf		rewritten;
	char	   *backup = NULL;
	struct stat st;
	bool		ok = false;

	strbuf_init(&rewritten);
	if (!ini_find_entry(ini_path, name, section, sizeof(section), 0, &entry))
	{
		log_error("no entry \"%s\" in the [databases] section of %s (or the files it %%includes); fix: give --pgbouncer-ini the file PgBouncer reads",
				  name, ini_path);
		goto done;
	}
	if ((text = read_text_file(entry.path)) == NULL || stat(entry.path, &st) < 0)
	{
		log_error("cannot read %s: %s", entry.path, strerror(errno));
		goto done;
	}
	snprintf(section, sizeof(section), "%s", entry.start_section);
	for (char *line = text; line && *line;)
	{
		char	   *nl = strchr(line, '\n');
		size_t		len = nl ? (size_t) (nl - line) : strlen(line);
		char		word[INI_WORD_LEN];
		const char *value;
		size_t		value_len;
		IniLineKind kind = ini_parse_line(line, len, word, sizeof(word), &value, &value_len);

		if (kind == INI_SECTION)
			snprintf(section, sizeof(section), "%s", word);
		if (kind == INI_KEY && strcmp(section, "databases") == 0 && strcmp(word, name) == 0)
		{
			char	   *connstr = connstr_repointed(value, value_len, host, port, dbname);

			strbuf_append_len(&rewritten, line, (size_t) (value - line));
			strbuf_append(&rewritten, connstr);
			free(connstr);
		}
		else
			strbuf_append_len(&rewritten, line, len);
		if (nl)
			strbuf_append(&rewritten, "\n");
		line = nl ? nl + 1 : NULL;
	}
	if (strcmp(rewritten.data, text) == 0)
	{
		ok = true;				/* already there (one file for several PgBouncers) */
		goto done;
	}
	if (!strlist_contains(backed_up, entry.path))
	{
		backup = psprintf("%s.pgcutover-backup", entry.path);
		if (!write_file_atomically(backup, text, &st))
			goto done;
		strlist_add(backed_up, entry.path);
	}
	if (!write_file_atomically(entry.path, rewritten.data, &st))
		goto done;
	log_info("%s: entry %s now points at host=%s port=%s dbname=%s%s%s", entry.path, name, host, port, dbname,
			 backup ? "; the previous file is " : "", backup ? backup : "");
	ok = true;
done:
	free(backup);
	strbuf_free(&rewritten);
	free(text);
	free(entry.path);
	return ok;
}

bool
pgbouncer_ini_find_entry(const char *ini_path, const char *name, char **defined_in)
{
	IniEntry	entry = {0};
	char		section[INI_WORD_LEN] = "";

	*defined_in = NULL;
	if (!ini_find_entry(ini_path, name, section, sizeof(section), 0, &entry))
		return false;
	*defined_in = entry.path;
	return true;
}
