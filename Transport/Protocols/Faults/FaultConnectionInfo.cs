namespace FlowOrleans.Transport.Protocols.Faults;

/// <summary>Which connection a <see cref="FaultProtocol"/> asks a plan for.</summary>
/// <param name="Dialed">True for a connection this end dialed, false for one its listener accepted.</param>
/// <param name="Index">The protocol instance's count of connections so far, from 0, dialed and accepted together.</param>
/// <param name="Address">The address dialed, or the listener's address.</param>
public readonly record struct FaultConnectionInfo(bool Dialed, long Index, string Address);
