package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"math/big"
	"strings"
)

// MaxExpressionBytes bounds a calculator expression, and with it the work of evaluating it (there is no power
// operator, so a product of bounded literals stays bounded).
const MaxExpressionBytes = 256

// MaxExactDigits is the longest integer result printed digit by digit; longer ones, and all non-integers, are
// printed with 15 significant digits.
const MaxExactDigits = 64

// Calculator evaluates arithmetic exactly: + - * / % and parentheses over integers and decimals. It parses with
// go/parser and computes with go/constant (arbitrary precision), accepting nothing but literals and operators, so
// there is no expression language of our own to get wrong.
type Calculator struct{}

type calculatorArgs struct {
	Expression string `json:"expression"`
}

// Spec implements Tool.
func (Calculator) Spec() ToolSpec {
	return ToolSpec{
		Name:        "calculator",
		Description: "Evaluate an arithmetic expression exactly. Supports + - * / % and parentheses over integers and decimals.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"expression":{"type":"string","description":"for example (17 * 23) / 4"}},"required":["expression"],"additionalProperties":false}`),
	}
}

// Call implements Tool. The result is {"expression": ..., "value": "<exact decimal or up to 15 significant digits>"}.
func (Calculator) Call(_ context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var args calculatorArgs
	if err := DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	switch n := len(args.Expression); {
	case n == 0:
		return nil, errMissing("expression")
	case n > MaxExpressionBytes:
		return nil, fmt.Errorf(`argument "expression": %d bytes exceeds the limit of %d`, n, MaxExpressionBytes)
	}
	expr, err := parser.ParseExpr(args.Expression)
	if err != nil {
		return nil, fmt.Errorf("not an arithmetic expression: %w", err)
	}
	v, err := evaluate(expr)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"expression": args.Expression, "value": format(v)})
}

func evaluate(e ast.Expr) (constant.Value, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.INT && e.Kind != token.FLOAT {
			return nil, fmt.Errorf("only numbers are allowed, not %s", e.Kind)
		}
		return known(constant.MakeFromLiteral(e.Value, e.Kind, 0))
	case *ast.ParenExpr:
		return evaluate(e.X)
	case *ast.UnaryExpr:
		if e.Op != token.ADD && e.Op != token.SUB {
			return nil, fmt.Errorf("operator %s is not allowed", e.Op)
		}
		x, err := evaluate(e.X)
		if err != nil {
			return nil, err
		}
		return constant.UnaryOp(e.Op, x, 0), nil
	case *ast.BinaryExpr:
		x, err := evaluate(e.X)
		if err != nil {
			return nil, err
		}
		y, err := evaluate(e.Y)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case token.ADD, token.SUB, token.MUL:
			return known(constant.BinaryOp(x, e.Op, y))
		case token.QUO, token.REM:
			if constant.Sign(y) == 0 {
				return nil, errors.New("division by zero")
			}
			if e.Op == token.REM {
				if x.Kind() != constant.Int || y.Kind() != constant.Int {
					return nil, errors.New("% needs whole numbers")
				}
				return constant.BinaryOp(x, token.REM, y), nil
			}
			return known(constant.BinaryOp(constant.ToFloat(x), token.QUO, constant.ToFloat(y)))
		default:
			return nil, fmt.Errorf("operator %s is not allowed", e.Op)
		}
	default:
		return nil, fmt.Errorf("only numbers, + - * / %% and parentheses are allowed")
	}
}

// known refuses go/constant's Unknown value, which it returns for numbers beyond its range (an exponent like
// 1e999999999) instead of failing.
func known(v constant.Value) (constant.Value, error) {
	if v.Kind() == constant.Unknown {
		return nil, errors.New("a number is out of range")
	}
	return v, nil
}

// format prints integers of up to MaxExactDigits digits exactly and other values with 15 significant digits
// (via big.Float, so huge and tiny values keep their exponent instead of becoming Inf or 0).
func format(v constant.Value) string {
	if i := constant.ToInt(v); i.Kind() == constant.Int {
		if s := i.ExactString(); len(strings.TrimPrefix(s, "-")) <= MaxExactDigits {
			return s
		}
	}
	f := new(big.Float).SetPrec(128)
	switch x := constant.Val(constant.ToFloat(v)).(type) {
	case int64:
		f.SetInt64(x)
	case *big.Int:
		f.SetInt(x)
	case *big.Rat:
		f.SetRat(x)
	case *big.Float:
		f.Set(x)
	}
	return f.Text('g', 15)
}
