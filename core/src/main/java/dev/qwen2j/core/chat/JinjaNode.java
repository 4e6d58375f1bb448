package dev.qwen2j.core.chat;

import java.util.List;

/** The syntax tree of a template: statements ({@link Stmt}) and expressions ({@link Expr}), each with its line. */
final class JinjaNode {

    private JinjaNode() {
    }

    sealed interface Stmt permits Text, Print, If, For, Set, SetBlock, Macro, CallBlock, FilterBlock, With,
            Break, Continue, Block, Unsupported {
        int line();
    }

    record Text(String text, int line) implements Stmt { }

    record Print(Expr value, int line) implements Stmt { }

    record If(List<Expr> conditions, List<List<Stmt>> bodies, List<Stmt> otherwise, int line) implements Stmt { }

    record For(Expr target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> otherwise, boolean recursive,
               int line) implements Stmt { }

    record Set(Expr target, Expr value, int line) implements Stmt { }

    record SetBlock(Expr target, List<Filter> filters, List<Stmt> body, int line) implements Stmt { }

    record Param(String name, Expr defaultValue) { }

    /** A macro; whether its body mentions varargs or kwargs decides whether extra arguments are accepted. */
    record Macro(String name, List<Param> params, List<Stmt> body, boolean usesVarargs, boolean usesKwargs, int line)
            implements Stmt { }

    record CallBlock(Call call, List<Param> params, List<Stmt> body, int line) implements Stmt { }

    record FilterBlock(List<Filter> filters, List<Stmt> body, int line) implements Stmt { }

    record With(List<Expr> targets, List<Expr> values, List<Stmt> body, int line) implements Stmt { }

    record Break(int line) implements Stmt { }

    record Continue(int line) implements Stmt { }

    /** {% block %} in a template without inheritance renders in place; {% generation %} likewise. */
    record Block(List<Stmt> body, boolean scoped, int line) implements Stmt { }

    /** include, import, extends: valid syntax, but transformers' environment has no loader to fetch from. */
    record Unsupported(String tag, int line) implements Stmt { }

    sealed interface Expr permits Const, Name, ListLit, TupleLit, DictLit, GetAttr, GetItem, SliceExpr, Call,
            FilterExpr, TestExpr, Unary, Binary, Compare, And, Or, Not, CondExpr, Concat {
        int line();
    }

    record Const(Object value, int line) implements Expr { }

    record Name(String name, int line) implements Expr { }

    record ListLit(List<Expr> items, int line) implements Expr { }

    record TupleLit(List<Expr> items, int line) implements Expr { }

    record DictLit(List<Expr> keys, List<Expr> values, int line) implements Expr { }

    record GetAttr(Expr target, String name, int line) implements Expr { }

    record GetItem(Expr target, Expr key, int line) implements Expr { }

    record SliceExpr(Expr start, Expr stop, Expr step, int line) implements Expr { }

    record Arg(String name, Expr value) { }

    record Call(Expr callee, List<Expr> args, List<Arg> kwargs, Expr starArgs, Expr starKwargs, int line)
            implements Expr { }

    record Filter(String name, List<Expr> args, List<Arg> kwargs, Expr starArgs, Expr starKwargs, int line) { }

    record FilterExpr(Expr value, Filter filter, int line) implements Expr { }

    record TestExpr(Expr value, String name, List<Expr> args, List<Arg> kwargs, boolean negated, int line)
            implements Expr { }

    record Unary(String op, Expr operand, int line) implements Expr { }

    record Binary(String op, Expr left, Expr right, int line) implements Expr { }

    record Compare(Expr first, List<String> ops, List<Expr> rest, int line) implements Expr { }

    record And(Expr left, Expr right, int line) implements Expr { }

    record Or(Expr left, Expr right, int line) implements Expr { }

    record Not(Expr operand, int line) implements Expr { }

    record CondExpr(Expr condition, Expr then, Expr otherwise, int line) implements Expr { }

    record Concat(List<Expr> parts, int line) implements Expr { }
}
