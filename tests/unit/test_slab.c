/* CUnit suite for util/slab: objects are zeroed, distinct, cache-line aligned and
 * survive across chunks; big arrays keep their contents through every growth (heap,
 * then a mapping, then a remapped mapping) and refuse sizes that overflow. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/slab.h"

typedef struct obj {
	int64_t a[22]; /* 176 bytes, the size of a simulated request */
} obj;

static void test_objects(void)
{
	slab *s = NULL;
	enum { N = 30000 }; /* ~5.7 MB: three chunks of 2 MiB */
	obj **p = malloc(N * sizeof *p);
	int zero = 1, aligned = 1, distinct = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(slab_create(sizeof(obj), &s), 0);
	for (int i = 0; i < N; i++) {
		p[i] = slab_alloc(s);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
		for (int k = 0; k < 22; k++)
			zero &= p[i]->a[k] == 0;
		aligned &= ((uintptr_t)p[i] % 64) == 0;
		for (int k = 0; k < 22; k++)
			p[i]->a[k] = (int64_t)i * 22 + k;
	}
	/* Every object kept what was written into it: none overlaps another. */
	for (int i = 0; i < N; i++)
		for (int k = 0; k < 22; k++)
			distinct &= p[i]->a[k] == (int64_t)i * 22 + k;
	CU_ASSERT(zero);
	CU_ASSERT(aligned);
	CU_ASSERT(distinct);
	slab_destroy(s);
	slab_destroy(NULL);
	free(p);
	/* Sizes it cannot carve. */
	CU_ASSERT_EQUAL(slab_create(0, &s), -1);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(slab_create((size_t)3 << 20, &s), -1);
}

static void test_array_growth(void)
{
	int64_t *v = NULL;
	size_t cap = 0, n = 0, ok = 1;

	/* 3 M elements of 8 bytes: from the heap past 2 MiB into a mapping that is then
	 * remapped several times; the contents must follow. */
	for (; n < 3000000; n++) {
		if (slab_array_grow((void **)&v, &cap, n + 1, sizeof *v)) {
			CU_FAIL("out of memory growing");
			break;
		}
		v[n] = (int64_t)n * 7 - 3;
	}
	CU_ASSERT(cap >= n);
	for (size_t i = 0; i < n; i++)
		ok &= v[i] == (int64_t)i * 7 - 3;
	CU_ASSERT(ok);
	/* Asking for what it holds changes nothing. */
	{
		int64_t *before = v;
		size_t c0 = cap;

		CU_ASSERT_EQUAL(slab_array_grow((void **)&v, &cap, 10, sizeof *v), 0);
		CU_ASSERT_PTR_EQUAL(v, before);
		CU_ASSERT_EQUAL(cap, c0);
	}
	/* A size that overflows is refused and leaves the array alone. */
	{
		int64_t *before = v;
		size_t c0 = cap;

		CU_ASSERT_EQUAL(slab_array_grow((void **)&v, &cap, SIZE_MAX / 4, sizeof *v), -1);
		CU_ASSERT_PTR_EQUAL(v, before);
		CU_ASSERT_EQUAL(cap, c0);
		CU_ASSERT_EQUAL(v[n - 1], (int64_t)(n - 1) * 7 - 3);
	}
	slab_array_free(v, cap, sizeof *v);
	slab_array_free(NULL, 0, 8);
}

static void test_small_array(void)
{
	char *v = NULL;
	size_t cap = 0;

	/* Small arrays stay ordinary heap blocks (slab_array_free frees them). */
	CU_ASSERT_EQUAL_FATAL(slab_array_grow((void **)&v, &cap, 5, 1), 0);
	CU_ASSERT(cap >= 5 && cap < ((size_t)2 << 20));
	memcpy(v, "abcd", 5);
	CU_ASSERT_EQUAL_FATAL(slab_array_grow((void **)&v, &cap, 5000, 1), 0);
	CU_ASSERT_STRING_EQUAL(v, "abcd");
	slab_array_free(v, cap, 1);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("slab", NULL, NULL);
	if (!s || !CU_add_test(s, "objects from chunks", test_objects) ||
	    !CU_add_test(s, "big array growth keeps contents", test_array_growth) ||
	    !CU_add_test(s, "small arrays", test_small_array))
		return -1;
	return 0;
}
