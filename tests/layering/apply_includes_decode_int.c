/*
 * Must NOT compile: the decoder's private header (decode_int.h, the Decoder
 * and its JSON parser, shared by the files of replication/decode) is on no
 * library's include path, not even apply's, which links the decoder.
 */
#include "decoder.h"
#include "decode_int.h"

int			layering_probe(void);

int
layering_probe(void)
{
	return (int) sizeof(JsonParser);
}
