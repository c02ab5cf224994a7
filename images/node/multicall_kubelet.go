//go:build !kube_pre134

package main

import (
	"context"

	"github.com/spf13/cobra"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// Kubernetes 1.34 and later: the kubelet's command takes a context.
func newKubeletCommand() *cobra.Command { return kubelet.NewKubeletCommand(context.Background()) }
