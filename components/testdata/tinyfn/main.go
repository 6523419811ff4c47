// Command tinyfn is a minimal main package the AgentFunction tests build instead of the real function.
package main

import "fmt"

func main() { fmt.Println("bootstrap") }
