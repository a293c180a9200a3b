"""Local fakes of the remote services, one module per vendor (`fakes.<vendor>`, class `Fake<Vendor>`): HTTP servers
on 127.0.0.1 that behave as the vendor does, driven through the real SDKs."""
