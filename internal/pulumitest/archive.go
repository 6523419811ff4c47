package pulumitest

import (
	"archive/zip"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// AssertLambdaArchive checks an archive built for Lambda's provided.al2023 on arm64: exactly one entry,
// "bootstrap", mode 0755, an ELF 64-bit aarch64 executable.
func AssertLambdaArchive(t testing.TB, path string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("archive %s: %v", path, err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("archive entries %v, want one bootstrap with mode 0755", zr.File)
	}
	f, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := elf.Open(tmp)
	if err != nil {
		t.Fatalf("bootstrap is not ELF: %v", err)
	}
	defer exe.Close()
	if exe.Machine != elf.EM_AARCH64 || exe.Type != elf.ET_EXEC || exe.Class != elf.ELFCLASS64 {
		t.Fatalf("bootstrap is %v %v %v, want a 64-bit aarch64 executable", exe.Machine, exe.Type, exe.Class)
	}
}
