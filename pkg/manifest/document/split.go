package document

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// rawDocument is one `---`-separated document of a file, with the 1-based
// line its content starts on.
type rawDocument struct {
	data []byte
	line int
}

// splitDocuments splits a YAML stream on `---` separator lines (a trailing
// comment is allowed) and `...` end markers.
func splitDocuments(data []byte) ([]rawDocument, error) {
	var (
		docs []rawDocument
		cur  bytes.Buffer
		line = 0
		from = 1
	)
	flush := func(next int) {
		docs = append(docs, rawDocument{data: bytes.Clone(cur.Bytes()), line: from})
		cur.Reset()
		from = next
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for sc.Scan() {
		line++
		text := sc.Text()
		trimmed := strings.TrimRight(text, " \t\r")
		if trimmed == "---" || strings.HasPrefix(trimmed, "--- #") || trimmed == "..." {
			flush(line + 1)
			continue
		}
		cur.WriteString(text)
		cur.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("splitting documents: %w", err)
	}
	flush(line + 1)
	return docs, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// yamlError turns a YAML parser error into a one-line reason whose line
// numbers count from the start of the file.
func yamlError(err error, firstLine int) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = yamlLineRE.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
		return "line " + strconv.Itoa(n+firstLine-1)
	})
	return "invalid YAML: " + msg
}
