/*
 * replay.c
 *	  Runs the fuzz target over files (the seed corpus and every crash ever
 *	  found), without libFuzzer: a regression test in every build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		FILE	   *f = fopen(argv[i], "rb");
		uint8_t    *buf;
		long		len;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
		{
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 1;
		}
		rewind(f);
		buf = malloc(len ? (size_t) len : 1);
		if (buf == NULL || fread(buf, 1, (size_t) len, f) != (size_t) len)
			return 1;
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t) len);
		free(buf);
	}
	printf("%d passed, 0 failed\n", argc - 1);
	return 0;
}
