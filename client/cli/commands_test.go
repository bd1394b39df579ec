package cli

import "testing"

func TestCommandsDescribesEveryCommand(t *testing.T) {
	apps := Commands()
	if len(apps) != len(commandList) {
		t.Fatalf("Commands() = %d apps, want %d", len(apps), len(commandList))
	}
	for i, a := range apps {
		if a.Name != commandList[i].name || len(a.Flags) == 0 || a.Usage == "" {
			t.Errorf("app %d: name %q (want %q), %d flags, usage %q", i, a.Name, commandList[i].name, len(a.Flags), a.Usage)
		}
	}
}
