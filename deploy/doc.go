// Package deploy holds no code: its tests check the Kubernetes manifests under kubernetes/.
package deploy
