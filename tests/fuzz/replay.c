/*
 * replay: runs a fuzz harness's LLVMFuzzerTestOneInput on every file
 * named, or found directly in a directory named, on the command line, so
 * the corpora run under gcc with ASan/UBSan in "make check" without
 * clang.  A harness reports a failure by aborting; a file it cannot read
 * is a failure here.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No seed file is near this; a bigger one is a mistake in the corpus. */
#define REPLAY_FILE_MAX	(1024 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE		*fp = NULL;
	uint8_t		*data = NULL;
	struct stat	 st;
	size_t		 size;
	int		 ret = -1;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (st.st_size > REPLAY_FILE_MAX) {
		fprintf(stderr, "replay: %s: larger than %d bytes\n", path,
		    REPLAY_FILE_MAX);
		goto out;
	}
	size = (size_t)st.st_size;
	/* Exactly size bytes, so ASan sees a harness reading past them. */
	if ((data = malloc(size > 0 ? size : 1)) == NULL ||
	    fread(data, 1, size, fp) != size) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		goto out;
	}
	/* Named before the run: a harness that aborts leaves the name of
	 * the input that did it just above the report. */
	printf("%s (%zu bytes): ", path, size);
	(void)fflush(stdout);
	(void)LLVMFuzzerTestOneInput(data, size);
	printf("ok\n");
	ret = 0;
out:
	free(data);
	if (fp != NULL)
		(void)fclose(fp);
	return ret;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The regular files of dir, in name order so runs are comparable. */
static int
run_dir(const char *dir, size_t *count)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 path[PATH_MAX], **names = NULL, **nn;
	size_t		 n = 0, cap = 0, i;
	int		 ret = -1;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL)
				goto out;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto out;
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir,
			    names[i]);
			goto out;
		}
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (run_file(path) == -1)
			goto out;
		(*count)++;
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	(void)closedir(d);
	return ret;
}

int
main(int argc, char *argv[])
{
	struct stat	st;
	size_t		count = 0;
	int		i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s file|directory ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) == -1 :
		    run_file(argv[i]) == -1)
			return 1;
		if (!S_ISDIR(st.st_mode))
			count++;
	}
	/* An empty corpus would make a green run mean nothing. */
	if (count == 0) {
		fprintf(stderr, "replay: no input files\n");
		return 1;
	}
	printf("replay: %zu inputs\n", count);
	return 0;
}
