package sensor

import (
	"fmt"
	"strings"
	"unicode"
)

// condition is a parsed trigger `conditions` expression over dependency names,
// with `&&`, `||` and parentheses, as Argo writes them ("(dep-1 || dep-2) && dep-3").
type condition interface {
	eval(have func(dep string) bool) bool
}

type depRef string
type andExpr struct{ l, r condition }
type orExpr struct{ l, r condition }

func (d depRef) eval(have func(string) bool) bool  { return have(string(d)) }
func (a andExpr) eval(have func(string) bool) bool { return a.l.eval(have) && a.r.eval(have) }
func (o orExpr) eval(have func(string) bool) bool  { return o.l.eval(have) || o.r.eval(have) }

// needsState reports whether the expression can require more than one
// event at once; without an `&&` every satisfying event fires on its own.
func needsState(expr string) bool { return strings.Contains(expr, "&&") }

// parseCondition parses a conditions expression and returns it with the
// dependency names it mentions, in order of appearance.
func parseCondition(expr string) (condition, []string, error) {
	p := &condParser{src: expr}
	c, err := p.or()
	if err != nil {
		return nil, nil, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return nil, nil, fmt.Errorf("unexpected %q at offset %d", p.src[p.pos:], p.pos)
	}
	return c, p.names, nil
}

type condParser struct {
	src   string
	pos   int
	names []string
}

func (p *condParser) skipSpace() {
	for p.pos < len(p.src) && unicode.IsSpace(rune(p.src[p.pos])) {
		p.pos++
	}
}

func (p *condParser) consume(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *condParser) or() (condition, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.consume("||") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
	return l, nil
}

func (p *condParser) and() (condition, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.consume("&&") {
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
	return l, nil
}

func (p *condParser) term() (condition, error) {
	if p.consume("(") {
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.consume(")") {
			return nil, fmt.Errorf("missing ) at offset %d", p.pos)
		}
		return c, nil
	}
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) {
		r := rune(p.src[p.pos])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			break
		}
		p.pos++
	}
	if start == p.pos {
		if p.pos >= len(p.src) {
			return nil, fmt.Errorf("expression ends where a dependency name is expected")
		}
		return nil, fmt.Errorf("unexpected %q at offset %d", p.src[p.pos:p.pos+1], p.pos)
	}
	name := p.src[start:p.pos]
	p.names = append(p.names, name)
	return depRef(name), nil
}
