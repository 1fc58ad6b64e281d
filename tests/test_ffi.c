/* Custom ops through libffi from C, against the example op library
 * examples/ops/myops.c: forward values, gradients (the user's and finite
 * differences) against gradcheck, a training run, every error case's
 * message, library lifetime. Graph files: test_ffi_graphio.c. */
#include "ffi_testing.h"

#include <criterion/redirect.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

/* A param x of shape [4,5] away from 0 (kinks of leaky relu, clip). */
static nn_node *away_from_zero(nn_graph *g) {
    nn_node *x = gc_param(g, "x", NN_SHAPE(4, 5), 0.1f, 1.5f);
    float *v = nn_tensor_f32(nn_param_value(x));
    for (int i = 0; i < 20; i += 2) v[i] = -v[i];
    return x;
}

static const float *run1(nn_graph *g, nn_node *y) {
    cr_assert_eq(nn_run(g, &y, 1), NN_OK, "%s", nn_error_message(g));
    return nn_tensor_f32(nn_value(y));
}

/* ---- forward values ---- */

Test(forward, swish_and_leaky_relu_values, .init = quiet, .fini = loud) {
    nn_graph *g = nn_graph_new(1);
    float v[] = {-2.f, 0.f, 1.f, 3.f};
    nn_tensor *t = nn_tensor_from(NN_F32, NN_SHAPE(4), v);
    nn_node *x = nn_const(g, "x", t);
    nn_node *s = nn_ffi_op(g, LIB, "swish", "float(float)", x, NULL, 0, "swish_grad");
    double alpha = 0.2;
    nn_node *l = nn_ffi_op(g, LIB, "leaky_relu", "float leaky_relu(float x, float alpha)", x, &alpha, 1, NULL);
    double lim[2] = {-1, 2};
    nn_node *c = nn_ffi_op(g, LIB, "clip_int", "float(float,int,int64_t)", x, lim, 2, "clip_int_grad");
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    cr_assert_str_eq(nn_node_op(s), "ffi:" LIB ":swish");
    cr_assert_str_eq(nn_node_name(s), "swish");
    const float *ys = run1(g, s);
    /* x / (1 + e^-x) by hand: -2/(1+e^2), 0, 1/(1+e^-1), 3/(1+e^-3) */
    const float want_s[] = {-0.238405844f, 0.f, 0.731058579f, 2.857722829f};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(ys[i], want_s[i], 1e-6f, "swish(%g) = %g", v[i], ys[i]);
    const float *yl = run1(g, l);
    const float want_l[] = {-0.4f, 0.f, 1.f, 3.f};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(yl[i], want_l[i], 1e-7f);
    const float *yc = run1(g, c);
    const float want_c[] = {-1.f, 0.f, 1.f, 2.f};
    for (int i = 0; i < 4; i++) cr_assert_eq(yc[i], want_c[i], "clip(%g) = %g", v[i], yc[i]);
    nn_graph_free(g);
    nn_tensor_free(t);
}

Test(forward, tensor_form_matches_elementwise_with_open_batch) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 3));
    double alpha = 0.05;
    nn_node *a = nn_ffi_op(g, LIB, "leaky_relu", "float(float,float)", x, &alpha, 1, "leaky_relu_grad");
    nn_node *b = nn_ffi_op(g, LIB, "leaky_relu_tensor", "void(const float*,float*,int64_t,float)", x, &alpha, 1,
                           "leaky_relu_tensor_grad");
    cr_assert_eq(nn_graph_status(g), NN_OK, "%s", nn_error_message(g));
    for (int batch = 1; batch <= 5; batch += 4) {
        float v[15];
        for (int i = 0; i < 3 * batch; i++) v[i] = (float)(i - 7) * 0.5f;
        nn_tensor *t = nn_tensor_from(NN_F32, NN_SHAPE(batch, 3), v);
        cr_assert_eq(nn_set_input(g, x, t), NN_OK);
        nn_node *outs[2] = {a, b};
        cr_assert_eq(nn_run(g, outs, 2), NN_OK, "%s", nn_error_message(g));
        cr_assert_eq(nn_shape_size(nn_tensor_shape(nn_value(b))), 3 * batch);
        for (int i = 0; i < 3 * batch; i++) {
            float want = v[i] > 0 ? v[i] : 0.05f * v[i];
            cr_assert_eq(nn_tensor_f32(nn_value(a))[i], want);
            cr_assert_eq(nn_tensor_f32(nn_value(b))[i], want);
        }
        nn_tensor_free(t);
    }
    nn_graph_free(g);
}

/* ---- gradients ---- */

Test(grad, swish_user_gradient) {
    nn_graph *g = nn_graph_new(3);
    nn_node *x = gc_param(g, "x", NN_SHAPE(4, 5), -4.f, 4.f);
    nn_node *y = nn_ffi_op(g, LIB, "swish", "float(float)", x, NULL, 0, "swish_grad");
    CHECK_GRAD(g, gc_project(g, y, 5));
    nn_graph_free(g);
}

Test(grad, leaky_relu_user_gradient) {
    nn_graph *g = nn_graph_new(3);
    double alpha = 0.1;
    nn_node *y = nn_ffi_op(g, LIB, "leaky_relu", "float(float,float)", away_from_zero(g), &alpha, 1, "leaky_relu_grad");
    CHECK_GRAD(g, gc_project(g, y, 5));
    nn_graph_free(g);
}

Test(grad, clip_int_user_gradient) {
    nn_graph *g = nn_graph_new(3);
    double lim[2] = {-1, 1}; /* |x| in [0.1,1.5]: some clipped, none at the edges by more than chance */
    nn_node *x = away_from_zero(g);
    float *v = nn_tensor_f32(nn_param_value(x));
    for (int i = 0; i < 20; i++)
        if (fabsf(fabsf(v[i]) - 1.f) < 0.05f) v[i] *= 0.9f;
    nn_node *y = nn_ffi_op(g, LIB, "clip_int", "float(float,int,int64_t)", x, lim, 2, "clip_int_grad");
    CHECK_GRAD(g, gc_project(g, y, 5));
    nn_graph_free(g);
}

Test(grad, tensor_forms_user_gradient) {
    nn_graph *g = nn_graph_new(3);
    double alpha = 0.3, eps = 1e-6;
    nn_node *y = nn_ffi_op(g, LIB, "leaky_relu_tensor", "void(const float*,float*,int64_t,float)", away_from_zero(g),
                           &alpha, 1, "leaky_relu_tensor_grad");
    /* l2_normalize mixes elements: a real vector-Jacobian product */
    y = nn_ffi_op(g, LIB, "l2_normalize", "void(const float *in, float *out, int64_t n, double eps)", y, &eps, 1,
                  "l2_normalize_grad");
    CHECK_GRAD(g, gc_project(g, y, 5));
    nn_graph_free(g);
}

Test(grad, finite_differences_warn_once, .init = quiet, .fini = loud) {
    nn_graph *g = nn_graph_new(3);
    double beta = 1.5;
    nn_node *x = gc_param(g, "x", NN_SHAPE(4, 5), -3.f, 3.f);
    nn_node *y = nn_ffi_op(g, LIB, "softplus", "float(float,double)", x, &beta, 1, NULL);
    y = nn_ffi_op(g, LIB, "softplus", "float(float,double)", y, &beta, 1, NULL);
    cr_assert_eq(n_warnings, 0, "no warning before a gradient is asked for");
    CHECK_GRAD(g, gc_project(g, y, 5));
    /* two nodes of one symbol: one warning, naming the op and the method */
    cr_assert_eq(n_warnings, 1, "%d warnings", n_warnings);
    cr_assert(strstr(last_warning, "softplus") && strstr(last_warning, "finite differences"), "%s", last_warning);
    nn_graph_free(g);
}

Test(grad, default_warning_goes_to_stderr_once, .init = cr_redirect_stderr) {
    nn_graph *g = nn_graph_new(3);
    double beta = 1.0;
    nn_node *x = gc_param(g, "x", NN_SHAPE(3), -1.f, 1.f);
    nn_node *y = nn_ffi_op(g, LIB, "softplus", "float(float,double)", x, &beta, 1, NULL), *dx;
    nn_node *loss = nn_sum(g, y, NN_ALL_AXES);
    cr_assert_eq(nn_grad(g, loss, &x, 1, &dx), NN_OK, "%s", nn_error_message(g));
    nn_graph *h = nn_graph_new(3);
    nn_node *xh = gc_param(h, "x", NN_SHAPE(3), -1.f, 1.f), *dxh;
    nn_node *lh = nn_sum(h, nn_ffi_op(h, LIB, "softplus", "float(float,double)", xh, &beta, 1, NULL), NN_ALL_AXES);
    cr_assert_eq(nn_grad(h, lh, &xh, 1, &dxh), NN_OK, "%s", nn_error_message(h));
    fflush(stderr);
    char text[2048] = "";
    size_t len = fread(text, 1, sizeof text - 1, cr_get_redirected_stderr());
    text[len] = 0;
    const char *first = strstr(text, "nngraph: warning: ffi op ");
    cr_assert(first && strstr(first, "softplus has no gradient function") && strstr(first, "finite differences"), "%s",
              text);
    cr_assert_null(strstr(first + 1, "nngraph: warning:"), "warned twice: %s", text);
    nn_graph_free(g);
    nn_graph_free(h);
}

Test(grad, finite_differences_tensor_form, .init = quiet, .fini = loud) {
    nn_graph *g = nn_graph_new(3);
    double eps = 1e-6;
    nn_node *x = gc_param(g, "x", NN_SHAPE(3, 4), -2.f, 2.f);
    nn_node *y = nn_ffi_op(g, LIB, "l2_normalize_nograd", "void(const float*,float*,int64_t,double)", x, &eps, 1, NULL);
    CHECK_GRAD(g, gc_project(g, y, 7));
    nn_graph_free(g);
}

Test(grad, finite_differences_agree_with_user_gradient, .init = quiet, .fini = loud) {
    /* the same op both ways, element by element */
    nn_graph *g = nn_graph_new(3);
    nn_node *x = gc_param(g, "x", NN_SHAPE(64), -5.f, 5.f);
    nn_node *a = nn_ffi_op(g, LIB, "swish", "float(float)", x, NULL, 0, "swish_grad");
    nn_node *b = nn_ffi_op(g, LIB, "swish", "float(float)", x, NULL, 0, NULL);
    nn_node *la = nn_sum(g, a, NN_ALL_AXES), *lb = nn_sum(g, b, NN_ALL_AXES), *da, *db;
    cr_assert_eq(nn_grad(g, la, &x, 1, &da), NN_OK, "%s", nn_error_message(g));
    cr_assert_eq(nn_grad(g, lb, &x, 1, &db), NN_OK, "%s", nn_error_message(g));
    nn_ffi_info info;
    cr_assert(nn_ffi_node_info(db, &info) && info.role == NN_FFI_FD_GRAD);
    cr_assert(nn_ffi_node_info(da, &info) && info.role == NN_FFI_GRAD);
    nn_node *outs[2] = {da, db};
    cr_assert_eq(nn_run(g, outs, 2), NN_OK, "%s", nn_error_message(g));
    for (int i = 0; i < 64; i++) {
        float u = nn_tensor_f32(nn_value(da))[i], f = nn_tensor_f32(nn_value(db))[i];
        cr_assert(fabsf(u - f) <= 2e-4f + 1e-3f * fabsf(u), "element %d: user %g, differences %g", i, u, f);
    }
    nn_graph_free(g);
}

Test(grad, tensor_finite_differences_refuse_large_inputs, .init = quiet, .fini = loud) {
    nn_graph *g = nn_graph_new(3);
    double eps = 1e-6;
    nn_node *x = nn_param(g, "x", NN_SHAPE(NN_FFI_FD_MAX_ELEMS + 1), nn_init_ones());
    nn_node *y = nn_ffi_op(g, LIB, "l2_normalize_nograd", "void(const float*,float*,int64_t,double)", x, &eps, 1, NULL);
    nn_node *loss = nn_sum(g, y, NN_ALL_AXES), *dx;
    cr_assert_eq(nn_grad(g, loss, &x, 1, &dx), NN_OK, "%s", nn_error_message(g));
    cr_assert_eq(nn_run(g, &dx, 1), NN_ERR_FFI);
    cr_assert(strstr(nn_error_message(g), "give the op a gradient function"), "%s", nn_error_message(g));
    nn_graph_free(g);
}

/* ---- node info and signatures ---- */

Test(info, forward_and_gradient_nodes) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_param(g, "x", NN_SHAPE(2), nn_init_ones());
    double alpha = 0.25;
    nn_node *y = nn_ffi_op(g, LIB, "leaky_relu", " float  leaky_relu ( float x , const float alpha ) ", x, &alpha, 1,
                           "leaky_relu_grad");
    nn_node *loss = nn_sum(g, y, NN_ALL_AXES), *dx;
    cr_assert_eq(nn_grad(g, loss, &x, 1, &dx), NN_OK, "%s", nn_error_message(g));
    nn_ffi_info info;
    cr_assert(nn_ffi_node_info(y, &info));
    cr_assert_eq(info.role, NN_FFI_FORWARD);
    cr_assert_str_eq(info.signature, "float(float,float)");
    cr_assert_str_eq(info.symbol, "leaky_relu");
    cr_assert_str_eq(info.grad_symbol, "leaky_relu_grad");
    cr_assert(info.elementwise && info.n_scalars == 1 && info.scalars[0] == 0.25);
    nn_node *gnode = NULL;
    for (int i = 0; i < nn_graph_num_nodes(g); i++)
        if (nn_ffi_node_info(nn_graph_node(g, i), &info) && info.role == NN_FFI_GRAD) gnode = nn_graph_node(g, i);
    cr_assert_not_null(gnode);
    cr_assert_str_eq(nn_node_op(gnode), "ffi:" LIB ":leaky_relu_grad");
    cr_assert(nn_node_is_grad(gnode));
    cr_assert_eq(nn_ffi_node_info(loss, &info), 0);
    cr_assert_eq(nn_run(g, &dx, 1), NN_OK);
    cr_assert_eq(nn_tensor_f32(nn_value(dx))[0], 1.f);
    nn_graph_free(g);
}

Test(signature, canonical_forms) {
    char c[128];
    cr_assert_eq(nn_ffi_signature_check("float swish(float x)", c, sizeof c), NN_OK);
    cr_assert_str_eq(c, "float(float)");
    cr_assert_eq(nn_ffi_signature_check("void f(const float *in, float *out, int64_t n, int k, double d)", c, sizeof c),
                 NN_OK);
    cr_assert_str_eq(c, "void(float*,float*,int64_t,int32_t,double)");
    cr_assert_eq(nn_ffi_signature_check("void g(const float *restrict in, float *restrict out, int64_t n)", c, sizeof c),
                 NN_OK);
    cr_assert_str_eq(c, "void(float*,float*,int64_t)");
    cr_assert_eq(nn_ffi_signature_check("void(float const*,float*,int64_t)", c, sizeof c), NN_OK);
    cr_assert_str_eq(c, "void(float*,float*,int64_t)");
    static const struct {
        const char *sig, *why;
    } bad[] = {
        {"float(float", "column 12: expected ',' or ')', found the end"},
        {"float(float,)", "column 13: unknown type ')'"},
        {"float f(float x) extra", "unexpected 'extra' after ')'"},
        {"float(float x; float y)", "column 14: unexpected ';'"},
        {"float(int)", "an elementwise op takes float x first"},
        {"float(void)", "an elementwise op takes float x first"},
        {"double(float)", "returns neither float nor void"},
        {"void(float*,float*,int)", "a whole-tensor op takes (const float *in, float *out, int64_t n)"},
        {"void(const float*,const float*,int64_t)", "the output pointer (parameter 2) must not be const"},
        {"float(float,float*)", "parameter 2 must be a scalar"},
        {"float(float,char)", "unknown type 'char'"},
        {"float(float,float,float,float,float,float,float,float,float,float)", "more than 8 scalar parameters"},
        {"", "a type is missing at the end"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(nn_ffi_signature_check(bad[i].sig, c, sizeof c), NN_ERR_ARG, "%s", bad[i].sig);
        cr_assert(strstr(nn_last_error(), bad[i].why), "'%s': %s", bad[i].sig, nn_last_error());
    }
    cr_assert_eq(nn_ffi_signature_check(NULL, c, sizeof c), NN_ERR_ARG);
}

/* ---- errors: each names its cause, the graph keeps it, nothing crashes ---- */

/* Builds one ffi op on a fresh graph and checks the status and that the
 * message holds every fragment given. */
static void expect_error(nn_status want, const char *lib, const char *sym, const char *sig, const double *sc, int n,
                         const char *grad, const char *frag1, const char *frag2) {
    nn_graph *g = nn_graph_new(1);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 3));
    nn_node *y = nn_ffi_op(g, lib, sym, sig, x, sc, n, grad);
    cr_assert_null(y);
    cr_assert_eq(nn_graph_status(g), want, "status %s: %s", nn_status_name(nn_graph_status(g)), nn_error_message(g));
    const char *msg = nn_error_message(g);
    cr_assert(strstr(msg, frag1), "want '%s' in: %s", frag1, msg);
    if (frag2) cr_assert(strstr(msg, frag2), "want '%s' in: %s", frag2, msg);
    /* sticky: later builders return NULL and keep the first message */
    cr_assert_null(nn_ffi_op(g, LIB, "swish", "float(float)", x, NULL, 0, NULL));
    cr_assert_null(nn_relu(g, x));
    cr_assert_str_eq(nn_error_message(g), msg);
    nn_graph_free(g);
}

Test(errors, missing_library) {
    expect_error(NN_ERR_FFI, "/nonexistent/libnope.so", "swish", "float(float)", NULL, 0, NULL,
                 "cannot load library '/nonexistent/libnope.so'", "No such file or directory");
    /* a file that is not a shared object: dlerror says so */
    expect_error(NN_ERR_FFI, "/etc/hostname", "swish", "float(float)", NULL, 0, NULL, "cannot load library '/etc/hostname'",
                 "/etc/hostname");
}

Test(errors, missing_symbols) {
    expect_error(NN_ERR_FFI, LIB, "no_such_op", "float(float)", NULL, 0, NULL,
                 "does not declare an op 'no_such_op' (it defines no nngraph_sig_no_such_op)", "ffi op 'no_such_op'");
    expect_error(NN_ERR_FFI, LIB, "swish", "float(float)", NULL, 0, "swish_gradient",
                 "does not declare an op 'swish_gradient'", NULL);
    expect_error(NN_ERR_ARG, LIB, "not an identifier", "float(float)", NULL, 0, NULL, "is not a C identifier", NULL);
    expect_error(NN_ERR_ARG, LIB, "swish", "float(float)", NULL, 0, "bad-name", "gradient symbol 'bad-name'", NULL);
}

Test(errors, unparsable_signature) {
    expect_error(NN_ERR_ARG, LIB, "swish", "float(float", NULL, 0, NULL, "cannot parse signature 'float(float'",
                 "expected ',' or ')'");
    expect_error(NN_ERR_ARG, LIB, "swish", NULL, NULL, 0, NULL, "the signature is NULL", NULL);
    expect_error(NN_ERR_ARG, LIB, "swish", "int(float)", NULL, 0, NULL, "returns neither float nor void", NULL);
}

Test(errors, scalar_count_disagrees_with_signature) {
    double two[2] = {0.1, 0.2};
    expect_error(NN_ERR_ARG, LIB, "leaky_relu", "float(float,float)", two, 2, NULL,
                 "signature float(float,float) takes 1 scalar argument, 2 given", "leaky_relu");
    expect_error(NN_ERR_ARG, LIB, "leaky_relu", "float(float,float)", NULL, 0, NULL, "takes 1 scalar argument, 0 given",
                 NULL);
    expect_error(NN_ERR_ARG, LIB, "leaky_relu", "float(float,float)", NULL, 1, NULL, "scalars is NULL", NULL);
    expect_error(NN_ERR_ARG, LIB, "leaky_relu", "float(float,float)", two, -1, NULL, "-1 scalars", NULL);
    double half[2] = {0.5, 2};
    expect_error(NN_ERR_ARG, LIB, "clip_int", "float(float,int,int64_t)", half, 2, NULL,
                 "scalar 1 (0.5) is not a whole number", NULL);
    double huge = 1e39;
    expect_error(NN_ERR_ARG, LIB, "leaky_relu", "float(float,float)", &huge, 1, NULL, "overflows float", NULL);
}

Test(errors, signature_differs_from_the_library) {
    /* the library exports nngraph_sig_swish = "float swish(float x)" */
    double a = 1;
    expect_error(NN_ERR_FFI, LIB, "swish", "float(float,float)", &a, 1, NULL,
                 "the graph declares function swish as float(float,float)", "declares it float(float) (nngraph_sig_swish)");
    expect_error(NN_ERR_FFI, LIB, "leaky_relu_tensor", "void(const float*,float*,int64_t,double)", &a, 1, NULL,
                 "declares it void(float*,float*,int64_t,float)", NULL);
    /* a gradient symbol of the wrong form is caught the same way */
    expect_error(NN_ERR_FFI, LIB, "leaky_relu_tensor", "void(const float*,float*,int64_t,float)", &a, 1,
                 "leaky_relu_grad", "gradient function leaky_relu_grad as void(float*,float*,float*,int64_t,float)",
                 NULL);
}

Test(errors, bad_arguments) {
    expect_error(NN_ERR_ARG, "", "swish", "float(float)", NULL, 0, NULL, "library path is empty", NULL);
    expect_error(NN_ERR_ARG, NULL, "swish", "float(float)", NULL, 0, NULL, "library path is empty or NULL", NULL);
    expect_error(NN_ERR_ARG, "my ops.so", "swish", "float(float)", NULL, 0, NULL, "holds a space", NULL);
    nn_graph *g = nn_graph_new(1);
    cr_assert_null(nn_ffi_op(g, LIB, "swish", "float(float)", NULL, NULL, 0, NULL));
    cr_assert(strstr(nn_error_message(g), "input is NULL"));
    nn_graph_free(g);
    g = nn_graph_new(1);
    nn_node *labels = nn_input(g, "labels", NN_I32, NN_SHAPE(4));
    cr_assert_null(nn_ffi_op(g, LIB, "swish", "float(float)", labels, NULL, 0, NULL));
    cr_assert(strstr(nn_error_message(g), "input must be f32"), "%s", nn_error_message(g));
    nn_graph_free(g);
    cr_assert_null(nn_ffi_op(NULL, LIB, "swish", "float(float)", NULL, NULL, 0, NULL));
}

/* ---- library lifetime ---- */

static int loaded(void) {
    void *h = dlopen(LIB, RTLD_NOW | RTLD_NOLOAD);
    if (h) dlclose(h);
    return h != NULL;
}

Test(library, shared_by_nodes_and_closed_with_the_last_graph) {
    cr_assert_not(loaded());
    nn_graph *a = nn_graph_new(1), *b = nn_graph_new(1);
    nn_node *xa = nn_input(a, "x", NN_F32, NN_SHAPE(2));
    nn_node *xb = nn_input(b, "x", NN_F32, NN_SHAPE(2));
    for (int i = 0; i < 3; i++) xa = nn_ffi_op(a, LIB, "swish", "float(float)", xa, NULL, 0, "swish_grad");
    cr_assert_not_null(nn_ffi_op(b, LIB, "swish", "float(float)", xb, NULL, 0, NULL));
    cr_assert_eq(nn_graph_status(a), NN_OK, "%s", nn_error_message(a));
    cr_assert(loaded());
    nn_graph_free(a);
    cr_assert(loaded(), "graph b still uses the library");
    nn_graph_free(b);
    cr_assert_not(loaded(), "the last graph closes the library");
    /* a failed build leaves nothing loaded either */
    nn_graph *c = nn_graph_new(1);
    nn_node *xc = nn_input(c, "x", NN_F32, NN_SHAPE(2));
    cr_assert_null(nn_ffi_op(c, LIB, "nope", "float(float)", xc, NULL, 0, NULL));
    cr_assert_not(loaded());
    nn_graph_free(c);
}

/* Graphs built, run and freed on two threads at once share the cached
 * library: opens and closes race on its count. */
static void *build_run_free(void *arg) {
    int *failures = arg;
    for (int i = 0; i < 40; i++) {
        nn_graph *g = nn_graph_new((uint64_t)i);
        nn_node *x = nn_param(g, "x", NN_SHAPE(8), nn_init_uniform(-1.f, 1.f));
        nn_node *y = nn_ffi_op(g, LIB, "swish", "float(float)", x, NULL, 0, i % 2 ? "swish_grad" : NULL);
        if (!y || nn_run(g, &y, 1) != NN_OK) ++*failures;
        nn_graph_free(g);
    }
    return NULL;
}

Test(library, shared_across_threads, .init = quiet, .fini = loud) {
    pthread_t t[2];
    int failures[2] = {0, 0};
    for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&t[i], NULL, build_run_free, &failures[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    cr_assert_eq(failures[0] + failures[1], 0);
    cr_assert_not(loaded(), "every graph freed: the library is closed");
}

/* ---- training with ffi activations ---- */

Test(train, ffi_activations_lower_the_loss_tenfold) {
    enum { N = 120, H = 12, STEPS = 150 };
    nn_graph *g = nn_graph_new(7);
    /* two interleaved classes on the plane: y = 1 when x0 * x1 > 0 (XOR
     * quadrants), which no linear model separates */
    float xs[2 * N];
    int32_t ys[N];
    nn_rng *rng = nn_graph_rng(g);
    for (int i = 0; i < N; i++) {
        float a = (float)(nn_rng_uniform(rng) * 4 - 2), b = (float)(nn_rng_uniform(rng) * 4 - 2);
        xs[2 * i] = a;
        xs[2 * i + 1] = b;
        ys[i] = a * b > 0;
    }
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_input(g, "y", NN_I32, NN_SHAPE(NN_BATCH));
    nn_node *w1 = nn_param(g, "W1", NN_SHAPE(2, H), nn_init_glorot_uniform());
    nn_node *b1 = nn_param(g, "b1", NN_SHAPE(H), nn_init_zeros());
    nn_node *w2 = nn_param(g, "W2", NN_SHAPE(H, 2), nn_init_glorot_uniform());
    nn_node *b2 = nn_param(g, "b2", NN_SHAPE(2), nn_init_zeros());
    double alpha = 0.1;
    nn_node *h = nn_ffi_op(g, LIB, "swish", "float(float)", nn_add(g, nn_matmul(g, x, w1), b1), NULL, 0, "swish_grad");
    h = nn_ffi_op(g, LIB, "leaky_relu", "float(float,float)", h, &alpha, 1, "leaky_relu_grad");
    nn_node *loss = nn_softmax_cross_entropy(g, nn_add(g, nn_matmul(g, h, w2), b2), y);
    nn_node *params[4] = {w1, b1, w2, b2}, *grads[4];
    cr_assert_eq(nn_grad(g, loss, params, 4, grads), NN_OK, "%s", nn_error_message(g));
    nn_tensor *tx = nn_tensor_from(NN_F32, NN_SHAPE(N, 2), xs), *ty = nn_tensor_from(NN_I32, NN_SHAPE(N), ys);
    nn_set_input(g, x, tx);
    nn_set_input(g, y, ty);
    nn_node *outs[5] = {loss, grads[0], grads[1], grads[2], grads[3]};
    float first = 0, last = 0;
    for (int step = 0; step < STEPS; step++) {
        cr_assert_eq(nn_run(g, outs, 5), NN_OK, "%s", nn_error_message(g));
        last = nn_value_scalar(loss);
        if (step == 0) first = last;
        for (int p = 0; p < 4; p++) {
            float *v = nn_tensor_f32(nn_param_value(params[p]));
            const float *d = nn_tensor_f32(nn_value(grads[p]));
            for (int64_t k = 0; k < nn_tensor_size(nn_param_value(params[p])); k++) v[k] -= 0.5f * d[k];
        }
    }
    cr_assert(isfinite(first) && first > 0.5f, "initial loss %g (about ln 2)", first);
    cr_assert(last < first / 10, "loss %g -> %g: not lowered tenfold", first, last);
    nn_tensor_free(tx);
    nn_tensor_free(ty);
    nn_graph_free(g);
}
