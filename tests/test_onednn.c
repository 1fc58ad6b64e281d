/* The oneDNN helper's error path (src/core/onednn.c). conv2d's shape rule
 * refuses every misfit before oneDNN sees it, so no graph reaches this
 * path; here a primitive is asked for directly with shapes oneDNN itself
 * refuses, and the status must come back as an nngraph error that says
 * what was asked and what oneDNN answered, with nothing cached. */
#include "../src/core/onednn.h"

#include <criterion/criterion.h>
#include <string.h>

/* A forward convolution whose output is 5x5 where a 3x3 kernel over a
 * 4x4 image without padding gives 2x2: invalid arguments. */
static dnnl_status_t misfit_conv(void *ctx, dnnl_engine_t eng, const_dnnl_primitive_attr_t attr,
                                 dnnl_primitive_desc_t *pd) {
    (void)ctx;
    dnnl_memory_desc_t x, w, y;
    dnnl_dims_t xd = {1, 1, 4, 4}, wd = {1, 1, 3, 3}, yd = {1, 1, 5, 5}, strides = {1, 1}, pad = {0, 0};
    dnnl_memory_desc_init_by_tag(&x, 4, xd, dnnl_f32, dnnl_nchw);
    dnnl_memory_desc_init_by_tag(&w, 4, wd, dnnl_f32, dnnl_oihw);
    dnnl_memory_desc_init_by_tag(&y, 4, yd, dnnl_f32, dnnl_nchw);
    dnnl_convolution_desc_t d;
    dnnl_status_t s = dnnl_convolution_forward_desc_init(&d, dnnl_forward_training, dnnl_convolution_direct, &x, &w,
                                                         NULL, &y, strides, pad, pad);
    return s == dnnl_success ? dnnl_primitive_desc_create(pd, &d, attr, eng, NULL) : s;
}

Test(onednn, a_refused_primitive_is_an_error_that_names_it) {
    char err[NN_ERRLEN] = "";
    nn_dnnl_args args = {.n = 0};
    int owned = 0, key = 1;
    for (int attempt = 0; attempt < 2; attempt++) { /* the failure is not cached */
        err[0] = 0;
        const nn_dnnl_prim *p = nn_dnnl_get(&key, sizeof key, misfit_conv, NULL, &args, &owned, err);
        cr_assert_null(p);
        cr_assert(strstr(err, "oneDNN says invalid_arguments"), "%s", err);
    }
}

Test(onednn, statuses_map_to_nngraph_errors) {
    char err[NN_ERRLEN];
    cr_assert_eq(nn_dnnl_err(err, dnnl_out_of_memory, "forward"), NN_ERR_NOMEM);
    cr_assert_str_eq(err, "forward: oneDNN says out_of_memory");
    cr_assert_eq(nn_dnnl_err(err, dnnl_invalid_arguments, "backward data"), NN_ERR_SHAPE);
    cr_assert_eq(nn_dnnl_err(err, dnnl_unimplemented, "backward weights"), NN_ERR_SHAPE);
    cr_assert_str_eq(err, "backward weights: oneDNN says unimplemented");
    cr_assert_eq(nn_dnnl_err(err, dnnl_runtime_error, "forward"), NN_ERR_RUNTIME);
}
