//go:build kube_pre134

package main

import (
	"github.com/spf13/cobra"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// Before Kubernetes 1.34 (build tag kube_pre134): the kubelet's command takes no context.
func newKubeletCommand() *cobra.Command { return kubelet.NewKubeletCommand() }
