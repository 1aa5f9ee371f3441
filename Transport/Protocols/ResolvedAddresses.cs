namespace FlowOrleans.Transport.Protocols;

/// <summary>The result of <see cref="IProtocol.ResolveAsync"/>: the protocol to use and the addresses to dial.</summary>
public sealed record ResolvedAddresses(string Protocol, IReadOnlyList<string> Addresses);
