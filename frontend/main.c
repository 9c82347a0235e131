/* main.c: the anyvm executable (placeholder until the CLI lands). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "anyvm: not yet runnable\n");
    return 1;
}
