/*
 * stream.h
 *	  The replication stream: START_REPLICATION on a logical slot over a
 *	  non-blocking libpq connection, XLogData and keepalive messages in,
 *	  standby status updates out.  Knows the streaming protocol and nothing
 *	  of SQL or of the plugin's payload.
 */
#ifndef PGCUTOVER_STREAM_H
#define PGCUTOVER_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "lsn.h"

typedef struct Stream Stream;

typedef enum StreamStatus
{
	STREAM_DRAINED,				/* nothing more to read right now */
	STREAM_STOPPED,				/* the callback asked to stop */
	STREAM_END,					/* the server ended the stream */
	STREAM_ERROR
} StreamStatus;

/*
 * Called for every XLogData message with its WAL start position and payload.
 * Returns false to stop reading (stream_read then returns STREAM_STOPPED).
 */
typedef bool (*StreamDataFn) (void *arg, Lsn wal_start, const char *data, size_t len);

/*
 * Connects (replication=database) and starts streaming slot from startpos
 * with the given plugin options (NULL-terminated name/value pairs).  On
 * failure returns NULL with *errmsg set (one line, redacted, with a fix).
 */
Stream	   *stream_start(const char *dsn, const char *slot, Lsn startpos,
						 const char *const *plugin_options, char **errmsg);

int			stream_socket(const Stream *s);

/* Reads every message available without blocking. */
StreamStatus stream_read(Stream *s, StreamDataFn fn, void *arg);

/*
 * True when the socket holds more input than stream_read consumed: the
 * server is still sending (a backlog), so a commit can wait for more.
 */
bool		stream_input_pending(const Stream *s);

/* The server's end of WAL as last reported (keepalive or XLogData). */
Lsn			stream_server_wal_end(const Stream *s);

/* True (once) when the server asked for a status update. */
bool		stream_reply_requested(Stream *s);

/* Sends a standby status update: everything up to flushed is durable. */
bool		stream_send_feedback(Stream *s, Lsn flushed, bool request_reply);

/* One line describing the last error, malloc'd. */
char	   *stream_error(const Stream *s);

void		stream_close(Stream *s);

#endif
