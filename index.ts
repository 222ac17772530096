// The program: validated config -> components -> the stack outputs of design.md. Config is read
// and checked first, so a bad value stops the run before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./components/config";
import { createIngressPath } from "./components/stack";

const { outputs } = createIngressPath(loadConfig(), pulumi.getStack());

export const url = outputs.url;
export const loadBalancerIp = outputs.loadBalancerIp;
export const nodePort = outputs.nodePort;
export const serviceClusterIp = outputs.serviceClusterIp;
export const servicePort = outputs.servicePort;
export const podPort = outputs.podPort;
export const project = outputs.project;
export const location = outputs.location;
export const clusterName = outputs.clusterName;
export const namespace = outputs.namespace;
export const deploymentName = outputs.deploymentName;
export const serviceName = outputs.serviceName;
export const ingressName = outputs.ingressName;
export const nodeTag = outputs.nodeTag;
export const sshUser = outputs.sshUser;
export const kubeconfig = outputs.kubeconfig;
export const sshPrivateKey = outputs.sshPrivateKey;
