/*
 * ps_rewrite.c - the build step that makes kernel code run on the MMU model:
 * reads a kernel object's optimised bitcode, replaces every load and store
 * of simulated memory with a call into the access runtime (sim/access.c),
 * links that runtime's bitcode in, inlines its hit path, and writes the
 * object file.
 *
 * Usage: ps_rewrite KERNEL.bc RUNTIME.bc OUT.o
 *
 * What becomes what:
 * - a load or store of 1, 2, 4 or 8 bytes (integers, pointers, floats,
 *   small vectors) -> __ps_loadN(addr) / __ps_storeN(addr, value);
 * - a load or store of any other size (16-byte vectors after the SLP or
 *   loop vectorizer, odd-sized integers) -> __ps_read / __ps_write through
 *   a host temporary, one access of that size;
 * - an atomic load, store, read-modify-write or compare-exchange -> the
 *   same instruction on the host pointer __ps_ptr gives, so it stays
 *   atomic (it may not cross a page);
 * - a byval argument that does not point at the stack or a global -> a
 *   host temporary filled by __ps_read (the call loses `tail`).
 * Accesses whose address is, by construction, a stack slot (alloca) or a
 * global are host memory and stay native; the runtime tells host from
 * simulated addresses for the rest (host memory lies above 4 GiB).
 * Calls of the sanitizer's __asan_handle_no_return and its empty module
 * constructor are dropped.
 * Memory intrinsics never reach this step: the compile before it turns them
 * into calls of the kernel's own memcpy/memmove/memset (kernel code, itself
 * rewritten).  Inline asm with memory operands, pointers in non-zero
 * address spaces and intrinsics that take a pointer this step does not
 * know are refused: the build fails with the function and the reason.
 */
#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_READ = 0, KIND_WRITE = 1 };

struct rw {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMTargetDataRef td;
    LLVMBuilderRef b;
    LLVMTypeRef i8, i32, i64, i8p, voidt;
    LLVMValueRef load_fn[4], store_fn[4], read_fn, write_fn, ptr_fn;
    LLVMTypeRef load_ty[4], store_ty[4], read_ty, write_ty, ptr_ty;
    const char *file;
    unsigned errors;
    unsigned rewritten, native;
};

static void
die(const char *what, const char *msg)
{
    fprintf(stderr, "ps_rewrite: %s%s%s\n", what, msg ? ": " : "", msg ? msg : "");
    exit(1);
}

static LLVMModuleRef
read_bitcode(LLVMContextRef ctx, const char *path)
{
    LLVMMemoryBufferRef buf;
    LLVMModuleRef m;
    char *msg = NULL;
    if (LLVMCreateMemoryBufferWithContentsOfFile(path, &buf, &msg))
        die(path, msg);
    if (LLVMParseBitcodeInContext2(ctx, buf, &m))
        die(path, "not valid bitcode");
    LLVMDisposeMemoryBuffer(buf);
    return m;
}

static void
refuse(struct rw *r, LLVMValueRef inst, const char *why)
{
    LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInstructionParent(inst));
    size_t n;
    const char *name = LLVMGetValueName2(fn, &n);
    unsigned line = 0;
    LLVMMetadataRef loc = LLVMInstructionGetDebugLoc(inst);
    if (loc != NULL)
        line = LLVMDILocationGetLine(loc);
    fprintf(stderr, "%s: error: in %s (line %u): %s\n", r->file, name, line, why);
    r->errors++;
}

static LLVMValueRef
declare(struct rw *r, const char *name, LLVMTypeRef ty)
{
    LLVMValueRef f = LLVMGetNamedFunction(r->mod, name);
    if (f == NULL)
        f = LLVMAddFunction(r->mod, name, ty);
    return f;
}

static void
declare_runtime(struct rw *r)
{
    static const char *const lname[4] = {"__ps_load1", "__ps_load2", "__ps_load4", "__ps_load8"};
    static const char *const sname[4] = {"__ps_store1", "__ps_store2", "__ps_store4",
                                         "__ps_store8"};
    for (unsigned i = 0; i < 4; i++) {
        LLVMTypeRef it = LLVMIntTypeInContext(r->ctx, 8u << i);
        LLVMTypeRef sargs[2] = {r->i64, it};
        r->load_ty[i] = LLVMFunctionType(it, &r->i64, 1, 0);
        r->store_ty[i] = LLVMFunctionType(r->voidt, sargs, 2, 0);
        r->load_fn[i] = declare(r, lname[i], r->load_ty[i]);
        r->store_fn[i] = declare(r, sname[i], r->store_ty[i]);
    }
    LLVMTypeRef rw_args[3] = {r->i64, r->i8p, r->i64};
    r->read_ty = LLVMFunctionType(r->voidt, rw_args, 3, 0);
    r->write_ty = r->read_ty;
    r->read_fn = declare(r, "__ps_read", r->read_ty);
    r->write_fn = declare(r, "__ps_write", r->write_ty);
    LLVMTypeRef p_args[3] = {r->i64, r->i64, r->i32};
    r->ptr_ty = LLVMFunctionType(r->i8p, p_args, 3, 0);
    r->ptr_fn = declare(r, "__ps_ptr", r->ptr_ty);
}

/* The object a pointer is derived from, through casts and GEPs. */
static LLVMValueRef
base_object(LLVMValueRef p)
{
    for (;;) {
        if (LLVMIsAGetElementPtrInst(p) || LLVMIsABitCastInst(p) || LLVMIsAAddrSpaceCastInst(p)) {
            p = LLVMGetOperand(p, 0);
            continue;
        }
        if (LLVMIsAConstantExpr(p)) {
            LLVMOpcode op = LLVMGetConstOpcode(p);
            if (op == LLVMGetElementPtr || op == LLVMBitCast || op == LLVMAddrSpaceCast) {
                p = LLVMGetOperand(p, 0);
                continue;
            }
        }
        return p;
    }
}

/* True if p can only be host memory: a stack slot or a global. */
static bool
is_host(LLVMValueRef p)
{
    LLVMValueRef o = base_object(p);
    return LLVMIsAAllocaInst(o) || LLVMIsAGlobalValue(o);
}

/* Index 0..3 of the sized runtime function for type t, or -1. */
static int
sized_index(struct rw *r, LLVMTypeRef t)
{
    unsigned long long bytes = LLVMStoreSizeOfType(r->td, t);
    unsigned long long bits = LLVMSizeOfTypeInBits(r->td, t);
    int idx = bytes == 1 ? 0 : bytes == 2 ? 1 : bytes == 4 ? 2 : bytes == 8 ? 3 : -1;
    if (idx < 0)
        return -1;
    switch (LLVMGetTypeKind(t)) {
    case LLVMIntegerTypeKind:
    case LLVMPointerTypeKind:
        return idx;
    case LLVMFloatTypeKind:
    case LLVMDoubleTypeKind:
        return bits == bytes * 8 ? idx : -1;
    case LLVMVectorTypeKind:
        if (LLVMGetTypeKind(LLVMGetElementType(t)) == LLVMPointerTypeKind)
            return -1;
        return bits == bytes * 8 ? idx : -1;
    default:
        return -1;
    }
}

/* v of type t as the integer type it, and back. */
static LLVMValueRef
to_int(struct rw *r, LLVMValueRef v, LLVMTypeRef it)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    switch (LLVMGetTypeKind(t)) {
    case LLVMPointerTypeKind:
        return LLVMBuildPtrToInt(r->b, v, it, "");
    case LLVMIntegerTypeKind:
        return LLVMGetIntTypeWidth(t) == LLVMGetIntTypeWidth(it) ? v
                                                                 : LLVMBuildZExt(r->b, v, it, "");
    default:
        return LLVMBuildBitCast(r->b, v, it, "");
    }
}

static LLVMValueRef
from_int(struct rw *r, LLVMValueRef v, LLVMTypeRef t)
{
    switch (LLVMGetTypeKind(t)) {
    case LLVMPointerTypeKind:
        return LLVMBuildIntToPtr(r->b, v, t, "");
    case LLVMIntegerTypeKind:
        return LLVMGetIntTypeWidth(t) == LLVMGetIntTypeWidth(LLVMTypeOf(v))
                   ? v
                   : LLVMBuildTrunc(r->b, v, t, "");
    default:
        return LLVMBuildBitCast(r->b, v, t, "");
    }
}

/* A host temporary of type t in the function's entry block. */
static LLVMValueRef
entry_alloca(struct rw *r, LLVMValueRef inst, LLVMTypeRef t)
{
    LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInstructionParent(inst));
    LLVMBuilderRef eb = LLVMCreateBuilderInContext(r->ctx);
    LLVMPositionBuilderBefore(eb, LLVMGetFirstInstruction(LLVMGetEntryBasicBlock(fn)));
    LLVMValueRef a = LLVMBuildAlloca(eb, t, "ps.tmp");
    LLVMDisposeBuilder(eb);
    return a;
}

static LLVMValueRef
addr_of(struct rw *r, LLVMValueRef p)
{
    return LLVMBuildPtrToInt(r->b, p, r->i64, "");
}

static bool
check_space(struct rw *r, LLVMValueRef inst, LLVMValueRef p)
{
    if (LLVMGetPointerAddressSpace(LLVMTypeOf(p)) != 0) {
        refuse(r, inst, "a pointer in a non-zero address space cannot be simulated");
        return false;
    }
    return true;
}

static void
rewrite_load(struct rw *r, LLVMValueRef inst)
{
    LLVMValueRef p = LLVMGetOperand(inst, 0);
    LLVMTypeRef t = LLVMTypeOf(inst);
    LLVMValueRef v;
    int idx = sized_index(r, t);
    if (idx >= 0) {
        LLVMValueRef a = addr_of(r, p);
        v = LLVMBuildCall2(r->b, r->load_ty[idx], r->load_fn[idx], &a, 1, "");
        v = from_int(r, v, t);
    } else {
        LLVMValueRef tmp = entry_alloca(r, inst, t);
        LLVMValueRef args[3] = {addr_of(r, p), LLVMBuildBitCast(r->b, tmp, r->i8p, ""),
                                LLVMConstInt(r->i64, LLVMStoreSizeOfType(r->td, t), 0)};
        LLVMBuildCall2(r->b, r->read_ty, r->read_fn, args, 3, "");
        v = LLVMBuildLoad2(r->b, t, tmp, "");
    }
    LLVMReplaceAllUsesWith(inst, v);
    LLVMInstructionEraseFromParent(inst);
}

static void
rewrite_store(struct rw *r, LLVMValueRef inst)
{
    LLVMValueRef val = LLVMGetOperand(inst, 0);
    LLVMValueRef p = LLVMGetOperand(inst, 1);
    LLVMTypeRef t = LLVMTypeOf(val);
    int idx = sized_index(r, t);
    if (idx >= 0) {
        LLVMValueRef args[2] = {addr_of(r, p),
                                to_int(r, val, LLVMIntTypeInContext(r->ctx, 8u << idx))};
        LLVMBuildCall2(r->b, r->store_ty[idx], r->store_fn[idx], args, 2, "");
    } else {
        LLVMValueRef tmp = entry_alloca(r, inst, t);
        LLVMBuildStore(r->b, val, tmp);
        LLVMValueRef args[3] = {addr_of(r, p), LLVMBuildBitCast(r->b, tmp, r->i8p, ""),
                                LLVMConstInt(r->i64, LLVMStoreSizeOfType(r->td, t), 0)};
        LLVMBuildCall2(r->b, r->write_ty, r->write_fn, args, 3, "");
    }
    LLVMInstructionEraseFromParent(inst);
}

/* Atomics keep their instruction, on the host pointer of the bytes. */
static void
rewrite_atomic(struct rw *r, LLVMValueRef inst, unsigned ptr_op, LLVMTypeRef t, int kind)
{
    LLVMValueRef p = LLVMGetOperand(inst, ptr_op);
    LLVMValueRef args[3] = {addr_of(r, p), LLVMConstInt(r->i64, LLVMStoreSizeOfType(r->td, t), 0),
                            LLVMConstInt(r->i32, (unsigned long long)kind, 0)};
    LLVMValueRef h = LLVMBuildCall2(r->b, r->ptr_ty, r->ptr_fn, args, 3, "");
    LLVMSetOperand(inst, ptr_op, LLVMBuildBitCast(r->b, h, LLVMTypeOf(p), ""));
}

static bool
starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Calls: inline asm, intrinsics and byval arguments. */
static void
check_call(struct rw *r, LLVMValueRef inst)
{
    LLVMValueRef callee = LLVMGetCalledValue(inst);
    unsigned nargs = LLVMGetNumArgOperands(inst);
    if (LLVMIsAInlineAsm(callee)) {
        for (unsigned i = 0; i < nargs; i++)
            if (LLVMGetTypeKind(LLVMTypeOf(LLVMGetOperand(inst, i))) == LLVMPointerTypeKind)
                refuse(r, inst, "inline asm with a memory operand cannot be simulated");
        return;
    }
    if (LLVMIsAFunction(callee) && LLVMGetIntrinsicID(callee) != 0) {
        size_t n;
        const char *name = LLVMGetValueName2(callee, &n);
        if (starts_with(name, "llvm.dbg.") || starts_with(name, "llvm.lifetime.") ||
            starts_with(name, "llvm.assume") || starts_with(name, "llvm.experimental.noalias"))
            return;
        for (unsigned i = 0; i < nargs; i++) {
            LLVMValueRef a = LLVMGetOperand(inst, i);
            if (LLVMGetTypeKind(LLVMTypeOf(a)) != LLVMPointerTypeKind || is_host(a))
                continue;
            char why[256];
            snprintf(why, sizeof(why),
                     "%s takes a pointer that may be simulated memory: not supported", name);
            refuse(r, inst, why);
        }
        return;
    }
    unsigned byval = LLVMGetEnumAttributeKindForName("byval", 5);
    for (unsigned i = 0; i < nargs; i++) {
        LLVMValueRef a = LLVMGetOperand(inst, i);
        LLVMAttributeRef at = LLVMGetCallSiteEnumAttribute(inst, i + 1, byval);
        if (at == NULL || is_host(a))
            continue;
        if (!check_space(r, inst, a))
            continue;
        LLVMTypeRef t = LLVMGetElementType(LLVMTypeOf(a));
        LLVMValueRef tmp = entry_alloca(r, inst, t);
        LLVMValueRef args[3] = {addr_of(r, a), LLVMBuildBitCast(r->b, tmp, r->i8p, ""),
                                LLVMConstInt(r->i64, LLVMStoreSizeOfType(r->td, t), 0)};
        LLVMBuildCall2(r->b, r->read_ty, r->read_fn, args, 3, "");
        LLVMSetOperand(inst, i, tmp);
        LLVMSetTailCall(inst, 0);
        r->rewritten++;
    }
}

/* The sanitizer's call before a call that does not return: nothing to do. */
static bool
is_sanitizer_call(LLVMValueRef inst)
{
    LLVMValueRef callee = LLVMGetCalledValue(inst);
    size_t n;
    return LLVMIsAFunction(callee) &&
           strcmp(LLVMGetValueName2(callee, &n), "__asan_handle_no_return") == 0;
}

static void
rewrite_inst(struct rw *r, LLVMValueRef inst)
{
    LLVMOpcode op = LLVMGetInstructionOpcode(inst);
    LLVMValueRef p;
    LLVMPositionBuilderBefore(r->b, inst);
    LLVMMetadataRef loc = LLVMInstructionGetDebugLoc(inst);
    LLVMSetCurrentDebugLocation2(r->b, loc);
    switch (op) {
    case LLVMLoad:
        p = LLVMGetOperand(inst, 0);
        if (is_host(p) || !check_space(r, inst, p)) {
            r->native++;
            return;
        }
        r->rewritten++;
        if (LLVMGetOrdering(inst) != LLVMAtomicOrderingNotAtomic)
            rewrite_atomic(r, inst, 0, LLVMTypeOf(inst), KIND_READ);
        else
            rewrite_load(r, inst);
        return;
    case LLVMStore:
        p = LLVMGetOperand(inst, 1);
        if (is_host(p) || !check_space(r, inst, p)) {
            r->native++;
            return;
        }
        r->rewritten++;
        if (LLVMGetOrdering(inst) != LLVMAtomicOrderingNotAtomic)
            rewrite_atomic(r, inst, 1, LLVMTypeOf(LLVMGetOperand(inst, 0)), KIND_WRITE);
        else
            rewrite_store(r, inst);
        return;
    case LLVMAtomicRMW:
    case LLVMAtomicCmpXchg:
        p = LLVMGetOperand(inst, 0);
        if (is_host(p) || !check_space(r, inst, p)) {
            r->native++;
            return;
        }
        r->rewritten++;
        rewrite_atomic(r, inst, 0, LLVMTypeOf(LLVMGetOperand(inst, 1)), KIND_WRITE);
        return;
    case LLVMCall:
        if (is_sanitizer_call(inst)) {
            LLVMInstructionEraseFromParent(inst);
            return;
        }
        check_call(r, inst);
        return;
    case LLVMInvoke:
    case LLVMCallBr:
        check_call(r, inst);
        return;
    default:
        return;
    }
}

static bool
is_runtime(const char *name)
{
    return starts_with(name, "__ps_");
}

/*
 * The sanitizer's module constructor is empty (kernel mode, no globals
 * instrumented): it goes, with the lists that name only it.
 */
static void
drop_sanitizer_ctor(struct rw *r)
{
    LLVMValueRef ctor = LLVMGetNamedFunction(r->mod, "asan.module_ctor");
    if (ctor == NULL)
        return;
    static const char *const lists[] = {"llvm.global_ctors", "llvm.used", "llvm.compiler.used"};
    for (unsigned i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        LLVMValueRef g = LLVMGetNamedGlobal(r->mod, lists[i]);
        if (g != NULL && LLVMGetNumOperands(LLVMGetInitializer(g)) == 1)
            LLVMDeleteGlobal(g);
    }
    if (LLVMGetFirstUse(ctor) == NULL)
        LLVMDeleteFunction(ctor);
}

static void
rewrite_module(struct rw *r)
{
    drop_sanitizer_ctor(r);
    unsigned sankind = LLVMGetEnumAttributeKindForName("sanitize_address", 16);
    for (LLVMValueRef fn = LLVMGetFirstFunction(r->mod); fn; fn = LLVMGetNextFunction(fn)) {
        size_t n;
        if (LLVMIsDeclaration(fn) || is_runtime(LLVMGetValueName2(fn, &n)))
            continue;
        /* The sanitizer's attribute would keep the runtime from inlining. */
        LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, sankind);
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb;
             bb = LLVMGetNextBasicBlock(bb)) {
            LLVMValueRef inst = LLVMGetFirstInstruction(bb);
            while (inst != NULL) {
                LLVMValueRef next = LLVMGetNextInstruction(inst);
                rewrite_inst(r, inst);
                inst = next;
            }
        }
    }
}

static void
emit_object(LLVMModuleRef m, const char *out)
{
    char *msg = NULL;
    LLVMTargetRef target;
    const char *mt = LLVMGetTarget(m);
    char *triple =
        mt != NULL && mt[0] != '\0' ? LLVMCreateMessage(mt) : LLVMGetDefaultTargetTriple();
    if (LLVMGetTargetFromTriple(triple, &target, &msg))
        die("no target", msg);
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
        target, triple, "x86-64", "", LLVMCodeGenLevelDefault, LLVMRelocPIC, LLVMCodeModelDefault);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    /* Only what the inlined runtime needs: the kernel code itself was
     * optimised before the rewrite, and is not optimised again. */
    LLVMErrorRef e = LLVMRunPasses(m,
                                   "always-inline,globaldce,function(sroa,early-cse,instcombine,"
                                   "simplifycfg)",
                                   tm, po);
    if (e != NULL)
        die("passes", LLVMGetErrorMessage(e));
    LLVMDisposePassBuilderOptions(po);
    if (LLVMTargetMachineEmitToFile(tm, m, (char *)out, LLVMObjectFile, &msg))
        die(out, msg);
    LLVMDisposeTargetMachine(tm);
    LLVMDisposeMessage(triple);
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ps_rewrite KERNEL.bc RUNTIME.bc OUT.o\n");
        return 2;
    }
    struct rw r = {0};
    r.file = argv[1];
    r.ctx = LLVMContextCreate();
    r.mod = read_bitcode(r.ctx, argv[1]);
    r.td = LLVMCreateTargetData(LLVMGetDataLayoutStr(r.mod));
    r.b = LLVMCreateBuilderInContext(r.ctx);
    r.i8 = LLVMInt8TypeInContext(r.ctx);
    r.i32 = LLVMInt32TypeInContext(r.ctx);
    r.i64 = LLVMInt64TypeInContext(r.ctx);
    r.i8p = LLVMPointerType(r.i8, 0);
    r.voidt = LLVMVoidTypeInContext(r.ctx);
    declare_runtime(&r);
    rewrite_module(&r);
    if (r.errors != 0) {
        fprintf(stderr, "%s: %u access(es) cannot be simulated\n", r.file, r.errors);
        return 1;
    }
    LLVMModuleRef rt = read_bitcode(r.ctx, argv[2]);
    if (LLVMLinkModules2(r.mod, rt))
        die("cannot link the runtime into", argv[1]);
    /* The runtime is inlined into this object and private to it. */
    for (LLVMValueRef fn = LLVMGetFirstFunction(r.mod); fn; fn = LLVMGetNextFunction(fn)) {
        size_t n;
        if (!LLVMIsDeclaration(fn) && is_runtime(LLVMGetValueName2(fn, &n)))
            LLVMSetLinkage(fn, LLVMInternalLinkage);
    }
    char *msg = NULL;
    if (LLVMVerifyModule(r.mod, LLVMReturnStatusAction, &msg))
        die("rewritten module is invalid", msg);
    LLVMDisposeMessage(msg);
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    emit_object(r.mod, argv[3]);
    LLVMDisposeBuilder(r.b);
    LLVMDisposeTargetData(r.td);
    LLVMDisposeModule(r.mod);
    LLVMContextDispose(r.ctx);
    return 0;
}
