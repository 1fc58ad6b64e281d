/* A program outside nngraph, built against the installed library (with
 * pkg-config) or nngraph as a meson subproject: it sees only the public
 * headers. y = relu(x W) for x = [1, -2], W = [[1, 2], [3, -4]]: [0, 10]. */
#include <nngraph.h>

#include <stdio.h>

int main(void) {
    nn_graph *g = nn_graph_new(1);
    float xv[2] = {1.f, -2.f}, wv[4] = {1.f, 2.f, 3.f, -4.f};
    nn_tensor *xt = nn_tensor_from(NN_F32, NN_SHAPE(1, 2), xv);
    nn_tensor *wt = nn_tensor_from(NN_F32, NN_SHAPE(2, 2), wv);
    nn_node *x = nn_input(g, "x", NN_F32, NN_SHAPE(NN_BATCH, 2));
    nn_node *y = nn_relu(g, nn_matmul(g, x, nn_const(g, "W", wt)));
    if (!y || nn_set_input(g, x, xt) != NN_OK || nn_run(g, &y, 1) != NN_OK) {
        fprintf(stderr, "hello: %s\n", nn_error_message(g));
        return 1;
    }
    const float *v = nn_tensor_f32(nn_value(y));
    printf("nngraph %s: y = [%g, %g]\n", NN_VERSION_STRING, v[0], v[1]);
    int ok = v[0] == 0.f && v[1] == 10.f;
    nn_tensor_free(xt);
    nn_tensor_free(wt);
    nn_graph_free(g);
    return ok ? 0 : 1;
}
