/* The guest program of test_jit_codegen.c's mul_div_shld_bsf_and_flag_ops_run_inline_and_match_the_interpreter
 * (real mode, loaded at 0x1000). Rebuild its bytes with
 *   as --32 -o t.o jit_arith.s && objcopy -O binary -j .text t.o t.bin */
.code16
.org 0
start:
  movw $(handler - start + 0x1000), 0
  movw $0, 2
  mov $0x2000, %di
  mov $24, %bp
  movl $0x12345678, %esi
  movl $0x9abcdef1, %ebx
top:
  imull $1103515245, %esi, %esi
  addl $12345, %esi
  roll $7, %ebx
  xorl %esi, %ebx
  movl %esi, %eax
  mull %ebx
  movl %eax, 0(%di)
  movl %edx, 4(%di)
  pushfl
  popl 8(%di)
  movl %esi, %eax
  imull %ebx
  movl %eax, 12(%di)
  movl %edx, 16(%di)
  lahf
  seto %al
  movw %ax, 20(%di)
  movl %esi, %eax
  mulw %bx
  movl %eax, 24(%di)
  movl %edx, 28(%di)
  pushfl
  popl 32(%di)
  movl %esi, %eax
  imulb %bl
  movl %eax, 36(%di)
  pushfl
  popl 40(%di)
  movl %ebx, %eax
  imulw %si
  mulb %ah
  movl %eax, 44(%di)
  movl %edx, 48(%di)
  movl %ebx, 52(%di)
  movl %esi, %eax
  mull 52(%di)
  movl %eax, 56(%di)
  movl %edx, 60(%di)
  pushfl
  popl 64(%di)
  /* DIV with edx < divisor: the flags before it come from CMP (CF/OF kept) */
  movl %ebx, %ecx
  orl $0x80000000, %ecx
  movl %ebx, %edx
  shrl $1, %edx
  movl %esi, %eax
  cmpl %ebx, %esi
  divl %ecx
  movl %eax, 68(%di)
  movl %edx, 72(%di)
  pushfl
  popl 76(%di)
  /* DIV after a helper (PUSHF): the flags before it from EFLAGS */
  movl %esi, %eax
  xorl %edx, %edx
  movl %ebx, 80(%di)
  orl $1, 80(%di)
  pushfl
  divl 80(%di)
  movl %eax, 84(%di)
  movl %edx, 88(%di)
  pushfl
  popl 92(%di)
  popl 96(%di)
  /* #DE: a zero divisor every other round, else a quotient over 32 bits */
  movl %esi, %eax
  movl %ebx, %edx
  orl $1, %edx
  movl %ebp, %ecx
  andl $1, %ecx
  addl %esi, %ebx
  divl %ecx
  jmp 1f
1:
  movl %eax, 100(%di)
  movl %edx, 104(%di)
  pushfl
  popl 108(%di)
  /* SHLD / SHRD by immediates and by CL (0, 4, ... 28), on registers and memory */
  movl %esi, %eax
  shldl $5, %ebx, %eax
  movl %eax, 112(%di)
  pushfl
  popl 116(%di)
  shrdl $27, %ebx, %eax
  movl %eax, 120(%di)
  lahf
  seto %al
  movw %ax, 124(%di)
  movl %ebp, %ecx
  andl $7, %ecx
  shll $2, %ecx
  shldl %cl, %esi, %eax
  movl %eax, 128(%di)
  pushfl
  popl 132(%di)
  shrdl %cl, %esi, %eax
  movl %eax, 136(%di)
  pushfl
  popl 140(%di)
  movl %ebx, 144(%di)
  shrdl %cl, %esi, 144(%di)
  pushfl
  popl 148(%di)
  shldl $1, %ebx, 144(%di)
  lahf
  seto %al
  movw %ax, 152(%di)
  /* BSF / BSR: a zero source every fourth round (the destination kept) */
  movl %esi, %edx
  test $3, %bp
  jnz 2f
  xorl %edx, %edx
  cmpl %ebx, %esi
2:
  movl $0x55, %eax
  bsfl %edx, %eax
  movl %eax, 156(%di)
  pushfl
  popl 160(%di)
  movl $0x66, %ecx
  bsrl %edx, %ecx
  movl %ecx, 164(%di)
  lahf
  seto %al
  movw %ax, 168(%di)
  movl %edx, 172(%di)
  addl %esi, %ebx
  bsrl 172(%di), %eax
  movl %eax, 176(%di)
  pushfl
  popl 180(%di)
  /* CMC, STC, CLC, SAHF, LAHF, STD, CLD after inline ops and after a helper */
  movl %esi, %eax
  subl %ebx, %eax
  cmc
  lahf
  seto %al
  movw %ax, 184(%di)
  addl %ebx, %eax
  stc
  pushfl
  popl 188(%di)
  andl %ebx, %eax
  clc
  adcl %esi, %eax
  pushfl
  popl 192(%di)
  movb %bl, %ah
  sahf
  pushfl
  popl 196(%di)
  movb %bh, %ah
  sahf
  cmc
  lahf
  movw %ax, 200(%di)
  std
  pushfl
  popl 204(%di)
  cld
  cmc
  pushfl
  popl 208(%di)
  /* CF after MUL/IMUL and along ADC/SBB chains, read by ADC, SBB, SETC and JC */
  movl %esi, %eax
  mull %ebx
  adcl $0, %edx
  movl %edx, 212(%di)
  movl %ebx, %eax
  imulb %bh
  setc %cl
  movb %cl, 216(%di)
  movl %esi, %eax
  sarl $20, %eax
  imull %eax
  sbbl %ecx, %ecx
  movl %ecx, 220(%di)
  movl %esi, %eax
  sarl $8, %eax
  imulw %bx
  setc %cl
  movb %cl, 217(%di)
  movl %esi, %eax
  movl %ebx, %edx
  addl %ebx, %eax
  adcl %esi, %edx
  adcl %eax, %edx
  sbbl %ebx, %eax
  sbbl %edx, %eax
  adcb %bl, %al
  sbbw %bx, %ax
  adcl %ebx, %eax
  jc 3f
  incl %edx
3:
  movl %eax, 224(%di)
  movl %edx, 228(%di)
  pushfl
  popl 232(%di)
  /* CMPXCHG on memory (equal every other round) and registers (AL itself the operand) */
  movl %esi, %eax
  movl %ebx, 236(%di)
  test $1, %bp
  jz 4f
  movl %ebx, %eax
4:
  movl %esi, %ecx
  lock cmpxchgl %ecx, 236(%di)
  lahf
  seto %dl
  movw %ax, 240(%di)
  movb %dl, 242(%di)
  movb %bh, %dl
  cmpxchgb %dl, %al
  movb %al, 243(%di)
  cmpxchgw %bx, %cx
  movl %eax, 244(%di)
  movl %ecx, 248(%di)
  pushfl
  popl 252(%di)
  add $256, %di
  dec %bp
  jnz top
  hlt
handler:
  pushw %bp
  movw %sp, %bp
  pushw %ax
  movw 2(%bp), %ax
  addw %ax, 0x1ff2
  movw 6(%bp), %ax
  xorw %ax, 0x1ff4
  popw %ax
  popw %bp
  incw 0x1ff0
  movl $0xffffffff, %ecx
  xorl %edx, %edx
  iret
