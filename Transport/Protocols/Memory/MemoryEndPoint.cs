using System.Net;
using System.Net.Sockets;

namespace FlowOrleans.Transport.Protocols.Memory;

/// <summary>The address of one end of an in-process connection: just a name.</summary>
internal sealed class MemoryEndPoint(string name) : EndPoint, IEquatable<MemoryEndPoint>
{
    public string Name { get; } = name;

    public override AddressFamily AddressFamily => AddressFamily.Unspecified;

    public bool Equals(MemoryEndPoint? other) => other is not null && string.Equals(Name, other.Name, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as MemoryEndPoint);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name);

    public override string ToString() => Name;
}
