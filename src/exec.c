/* The executor: runs a plan's steps in order, binding each kernel to its
 * input and output tensors. */
#include "internal.h"
#include "plan.h"

#include <stdlib.h>

struct nn_exec {
    int threads;
};

void nn_exec_free(struct nn_exec *e) { free(e); }

nn_status nn_plan_execute(nn_graph *g, nn_plan *p) {
    for (int s = 0; s < p->n_steps; s++) {
        nn_node *node = p->steps[s];
        nn_kernel_call c = {0};
        char err[NN_ERRLEN] = "";
        c.node = node;
        c.n_in = node->n_in;
        for (int k = 0; k < node->n_in; k++) c.in[k] = node->in[k]->value;
        c.out = &p->bufs[s];
        c.exec = g->exec;
        c.err = err;
        nn_status st = node->op->forward(&c);
        if (st != NN_OK) return nn_fail_run(g, st, "%s '%s': %s", node->op->name, node->name, err);
        node->value = &p->bufs[s];
    }
    return NN_OK;
}
