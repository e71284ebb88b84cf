/* CUnit suite for models/opfit: recovery of known constants from synthetic operator
 * data, the shipped constants reproduced from models/data, held-out errors, and the
 * bad-input messages (file:line and the term). */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/data/fitted.h"
#include "models/opfit.h"
#include "models/perf.h"
#include "tutil.h"

#define DATA FS_SOURCE_DIR "/models/data"

static const char ops_header[] =
	"emb_ms,input_layernorm_ms,attn_pre_proj_ms,attn_rope_ms,attn_post_proj_ms,"
	"post_attention_layernorm_ms,mlp_up_proj_ms,mlp_act_ms,mlp_down_proj_ms,add_ms,n_head,"
	"n_kv_head,n_embd,n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,"
	"num_tensor_parallel_workers\n";

/* A Vidur-layout file whose times are the model's own under g (exact data). */
static const char *synth_ops(const gpu_spec *g, const char *name)
{
	static const char *const cols[] = {"emb_ms", "attn_pre_proj_ms", "attn_rope_ms", "attn_post_proj_ms",
					   "mlp_up_proj_ms", "mlp_act_ms", "mlp_down_proj_ms", "add_ms"};
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	const char *path;

	len += (size_t)snprintf(buf + len, cap - len, "%s", ops_header);
	for (int tp = 1; tp <= 8; tp *= 2)
		for (double m = 1; m <= 8192; m *= 1.5) {
			double t[8], tok = floor(m);

			for (int i = 0; i < 8; i++)
				t[i] = 1e3 * opfit_predict_op(g, cols[i], tok, tp, 64, 8, 8192, 28672, 1);
			len += (size_t)snprintf(buf + len, cap - len,
						"%.17g,0.1,%.17g,%.17g,%.17g,0.1,%.17g,%.17g,%.17g,%.17g,64,8,8192,28672,"
						"32000,True,%g,%d\n",
						t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], tok, tp);
		}
	path = tu_file(name, buf);
	free(buf);
	return path;
}

static void test_recover_synthetic(void)
{
	gpu_spec truth, start;
	opfit_sources src = {.holdout_every = 4};
	opfit_result r;
	fs_err err = {0};
	char ar[8192];
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(gpu_lookup("h100", &truth, &err), 0);
	truth.compute_eff = 0.66;
	truth.gemm_half = 2.5e6;
	truth.mem_eff = 0.81;
	truth.kernel_s = 4e-6;
	truth.ew_eff = 0.5;
	truth.link_latency_s = 7e-6;
	truth.link_eff = 0.6;
	truth.attn_eff = 0.55;
	truth.attn_half_q = 900;
	src.ops[0] = synth_ops(&truth, "synth_ops.csv");
	len += (size_t)snprintf(ar, sizeof ar, "all_reduce_ms,rank,num_workers,size,collective\n");
	for (int tp = 2; tp <= 8; tp *= 2)
		for (double b = 2048; b < 1e9; b *= 4)
			len += (size_t)snprintf(ar + len, sizeof ar - len, "%.17g,0,%d,%g,all_reduce\n",
						1e3 * opfit_predict_allreduce(&truth, b, tp), tp, b);
	src.allreduce = tu_file("synth_ar.csv", ar);
	len = (size_t)snprintf(ar, sizeof ar, "id,gpu,engine,precision,seq_len,batch,tflops,notes,source\n");
	for (double s = 256; s <= 32768; s *= 2)
		len += (size_t)snprintf(ar + len, sizeof ar - len, "x,h100,\"FA, synthetic\",bf16,%g,1,%.17g,causal,test\n",
					s, opfit_predict_attention_tflops(&truth, s));
	src.attention = tu_file("synth_attn.csv", ar);

	CU_ASSERT_EQUAL_FATAL(gpu_lookup("h100", &start, &err), 0);
	CU_ASSERT_EQUAL_FATAL(opfit_run(&start, &src, &r, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.compute_eff, truth.compute_eff, 1e-4);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.gemm_half / truth.gemm_half, 1.0, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.mem_eff, truth.mem_eff, 1e-4);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.kernel_s / truth.kernel_s, 1.0, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.ew_eff, truth.ew_eff, 1e-4);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.link_latency_s / truth.link_latency_s, 1.0, 1e-3);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.link_eff, truth.link_eff, 1e-4);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.attn_eff, truth.attn_eff, 1e-4);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.attn_half_q / truth.attn_half_q, 1.0, 1e-3);
	CU_ASSERT(r.gemm.holdout.rows > 0 && r.gemm.holdout.mape < 1e-4);
	CU_ASSERT(r.allreduce.holdout.rows > 0 && r.allreduce.holdout.mape < 1e-4);
	CU_ASSERT(r.attention.holdout.rows > 0 && r.attention.holdout.mape < 1e-4);
}

/* The catalog compiles in models/data/fitted.h; a fresh fit of models/data gives
 * the same numbers (bench/calibrate.sh regenerates both). */
static void test_shipped_constants(void)
{
	opfit_sources h = {.ops = {DATA "/vidur/h100_llama-2-70b_ops.csv", DATA "/vidur/h100_llama-2-7b_ops.csv"},
			   .allreduce = DATA "/vidur/h100_dgx_all_reduce.csv",
			   .attention = DATA "/attention_kernels.csv",
			   .attention2 = DATA "/attention_kernels_short.csv",
			   .attn_engine = "FlashAttention-3",
			   .holdout_every = 4};
	opfit_sources a = {.ops = {DATA "/vidur/a100_llama-2-70b_ops.csv", DATA "/vidur/a100_llama-3-8b_ops.csv"},
			   .allreduce = DATA "/vidur/a100_dgx_all_reduce.csv",
			   .holdout_every = 4};
	opfit_result r;
	gpu_spec g, cat;
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(gpu_lookup("h100", &g, &err), 0);
	cat = g;
	CU_ASSERT_EQUAL_FATAL(opfit_run(&g, &h, &r, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.compute_eff, FIT_H100_COMPUTE_EFF, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.gemm_half / FIT_H100_GEMM_HALF, 1.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.mem_eff, FIT_H100_MEM_EFF, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.kernel_s / FIT_H100_KERNEL_S, 1.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.ew_eff, FIT_H100_EW_EFF, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.link_eff, FIT_H100_LINK_EFF, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.attn_eff, FIT_H100_ATTN_EFF, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.attn_half_q / FIT_H100_ATTN_HALF_Q, 1.0, 1e-9);
	CU_ASSERT_EQUAL(cat.compute_eff, FIT_H100_COMPUTE_EFF);
	/* Held-out errors (measured: GEMM 9.6 %, attention 5.8 %, all-reduce 21 %). */
	CU_ASSERT(r.gemm.holdout.rows > 2000 && r.gemm.holdout.mape < 0.12);
	CU_ASSERT(r.attention.holdout.rows >= 2 && r.attention.holdout.mape < 0.10);
	CU_ASSERT(r.allreduce.holdout.rows > 500 && r.allreduce.holdout.mape < 0.30);

	CU_ASSERT_EQUAL_FATAL(gpu_lookup("a100", &g, &err), 0);
	CU_ASSERT_EQUAL_FATAL(opfit_run(&g, &a, &r, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.compute_eff, FIT_A100_COMPUTE_EFF, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.mem_eff, FIT_A100_MEM_EFF, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.gpu.link_latency_s / FIT_A100_LINK_LATENCY_S, 1.0, 1e-9);
	CU_ASSERT(r.gemm.holdout.mape < 0.08);
	CU_ASSERT(!r.attention.fitted);
}

static void expect_fail(const opfit_sources *src, int status, const char *msg)
{
	gpu_spec g;
	opfit_result r;
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(gpu_lookup("h100", &g, &err), 0);
	CU_ASSERT_EQUAL(opfit_run(&g, src, &r, &err), -1);
	CU_ASSERT_EQUAL(err.status, status);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
	if (!strstr(err.msg, msg))
		fprintf(stderr, "want '%s', got '%s'\n", msg, err.msg);
}

static void test_bad_input(void)
{
	static const char row[] = "0.1,0.1,1,0.1,1,0.1,5,0.3,3,0.06,64,8,8192,28672,32000,True,4096,1\n";
	char text[4096], want[256];
	opfit_sources s = {.holdout_every = 4};

	/* Missing column: file:1 and its name. */
	s.ops[0] = tu_file("nocol.csv", "emb_ms,attn_pre_proj_ms\n0.1,0.2\n");
	expect_fail(&s, FS_EXIT_INPUT, "nocol.csv:1: missing column 'attn_post_proj_ms'");
	/* A non-numeric cell: file:line and the column. */
	snprintf(text, sizeof text, "%s%s%s", ops_header, row,
		 "0.1,0.1,1,0.1,1,0.1,abc,0.3,3,0.06,64,8,8192,28672,32000,True,4096,1\n");
	s.ops[0] = tu_file("nan.csv", text);
	expect_fail(&s, FS_EXIT_INPUT, "nan.csv:3: column 'mlp_up_proj_ms': 'abc' is not a number");
	/* A GEMM faster than the peak: 2 x 4096 x 8192 x 57344 FLOPs in 0.5 ms. */
	snprintf(text, sizeof text, "%s%s", ops_header,
		 "0.1,0.1,1,0.1,1,0.1,0.5,0.3,3,0.06,64,8,8192,28672,32000,True,4096,1\n");
	s.ops[0] = tu_file("fast.csv", text);
	expect_fail(&s, FS_EXIT_INPUT, "fast.csv:2: mlp_up_proj_ms: 0.5 ms is faster than h100's peak");
	s.ops[0] = tu_file("empty.csv", ops_header);
	expect_fail(&s, FS_EXIT_INPUT, "empty.csv: no rows");
	s.ops[0] = NULL;
	/* All-reduce: one row cannot give two terms. */
	s.allreduce = tu_file("ar1.csv", "all_reduce_ms,rank,num_workers,size\n0.05,0,8,1048576\n");
	expect_fail(&s, FS_EXIT_INPUT, "too few rows to fit all-reduce terms");
	s.allreduce = tu_file("ar_bad.csv", "all_reduce_ms,rank,num_workers,size\n0.05,0,1,1048576\n");
	expect_fail(&s, FS_EXIT_INPUT, "ar_bad.csv:2: all_reduce_ms 0.05, num_workers 1");
	s.allreduce = NULL;
	/* Attention: no rows for this GPU, and a row above the peak. */
	s.attention = DATA "/attention_kernels.csv";
	s.attn_gpu = "a100";
	expect_fail(&s, FS_EXIT_INPUT, "no causal BF16 rows for gpu 'a100'");
	s.attn_gpu = NULL;
	s.attention = tu_file("hot.csv", "id,gpu,engine,precision,seq_len,batch,tflops,notes,source\n"
					 "x,h100,FA,bf16,4096,1,2000,causal,made up\n");
	expect_fail(&s, FS_EXIT_INPUT, "hot.csv:2: attention: 2000 TFLOPS is above h100's BF16 peak");
	s.attention = NULL;
	/* Missing file, nothing given. */
	s.ops[0] = FS_SOURCE_DIR "/no/such.csv";
	snprintf(want, sizeof want, "%s: cannot open", s.ops[0]);
	expect_fail(&s, FS_EXIT_INPUT, want);
	s.ops[0] = NULL;
	expect_fail(&s, FS_EXIT_INPUT, "no operator data given");
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("opfit", tu_suite_init, NULL);
	if (!s || !CU_add_test(s, "recover known constants", test_recover_synthetic) ||
	    !CU_add_test(s, "shipped constants = fresh fit", test_shipped_constants) ||
	    !CU_add_test(s, "bad input", test_bad_input))
		return -1;
	return 0;
}
