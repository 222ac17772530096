import { base32, endpointChain, externalChain, serviceChain, serviceLocalChain } from "../../verifier/iptables/chain-names";

describe("kube-proxy chain names", () => {
  test("base32 follows RFC 4648 (test vectors, without padding)", () => {
    const enc = (s: string) => base32(Buffer.from(s));
    expect(enc("f")).toBe("MY");
    expect(enc("fo")).toBe("MZXQ");
    expect(enc("foo")).toBe("MZXW6");
    expect(enc("foob")).toBe("MZXW6YQ");
    expect(enc("fooba")).toBe("MZXW6YTB");
    expect(enc("foobar")).toBe("MZXW6YTBOI");
  });

  // names taken from kube-proxy's TestOverallIPTablesRules expectations (pkg/proxy/iptables/proxier_test.go)
  test.each([
    ["ns1/svc1:p80", "tcp", "KUBE-SVC-XPGD46QRK7WJZT7O"],
    ["ns2/svc2:p80", "tcp", "KUBE-SVC-GNZBNJ2PO5MGZ6GT"],
    ["ns3/svc3:p80", "tcp", "KUBE-SVC-X27LE4BHSL4DOUIK"],
    ["ns5/svc5:p80", "tcp", "KUBE-SVC-NUKIZ6OKUXPJNT4C"],
  ])("service chain of %s/%s is %s", (spn, proto, chain) => {
    expect(serviceChain(spn, proto)).toBe(chain);
    const hash = chain.slice("KUBE-SVC-".length);
    expect(externalChain(spn, proto)).toBe(`KUBE-EXT-${hash}`);
    expect(serviceLocalChain(spn, proto)).toBe(`KUBE-SVL-${hash}`);
  });

  test.each([
    ["ns1/svc1:p80", "10.180.0.1:80", "KUBE-SEP-SXIVWICOYRO3J4NJ"],
    ["ns4/svc4:p80", "10.180.0.5:80", "KUBE-SEP-C6EBXVWJJZMIWKLZ"],
    ["ns4/svc4:p80", "10.180.0.4:80", "KUBE-SEP-UKSFD7AGPMPPLUHC"],
    ["ns5/svc5:p80", "10.180.0.3:80", "KUBE-SEP-I77PXRDZVX7PMWMN"],
  ])("endpoint chain of %s -> %s is %s", (spn, ep, chain) => {
    expect(endpointChain(spn, "tcp", ep)).toBe(chain);
    expect(endpointChain(spn, "TCP", ep)).toBe(chain); // kube-proxy lower-cases the protocol
  });
});
