using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// Maps protocol names to implementations, as Vanadium's <c>flow.RegisterProtocol</c> family does. A name may stand
/// for several actual protocols (<c>tcp</c> for <c>tcp4</c> and <c>tcp6</c>); the empty name is the protocol used
/// for endpoints that name none. Thread-safe; lookups take no lock.
/// </summary>
public sealed class ProtocolRegistry
{
    private readonly Lock _writeLock = new();
    private FrozenDictionary<string, Registration> _registrations = FrozenDictionary<string, Registration>.Empty;

    /// <summary>The process-wide registry, holding the built-in protocols (see <see cref="CreateDefault"/>).</summary>
    public static ProtocolRegistry Default { get; } = CreateDefault();

    /// <summary>The registered names (the empty name included once <see cref="RegisterUnknown"/> was called), sorted.</summary>
    public IReadOnlyList<string> RegisteredProtocols =>
        Volatile.Read(ref _registrations).Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A registry with the built-ins: <c>tcp</c> (standing for <c>tcp4</c> and <c>tcp6</c>), <c>tcp4</c>,
    /// <c>tcp6</c>, <c>unix</c>, <c>ws</c> (standing for <c>ws4</c> and <c>ws6</c>), <c>ws4</c>, <c>ws6</c>,
    /// <c>wsh</c> (standing for <c>tcp4</c>, <c>tcp6</c>, <c>ws4</c> and <c>ws6</c>), <c>wsh4</c>, <c>wsh6</c>,
    /// and <c>tcp</c> for endpoints without a protocol.
    /// </summary>
    /// <param name="options">Framing options for the built-ins; null for the defaults.</param>
    public static ProtocolRegistry CreateDefault(FramingOptions? options = null)
    {
        var registry = new ProtocolRegistry();
        var tcp = new TcpProtocol(options);
        registry.Register("tcp", tcp, "tcp4", "tcp6");
        registry.Register("tcp4", tcp);
        registry.Register("tcp6", tcp);
        registry.Register("unix", new UnixProtocol(options));
        var ws = new WebSocketProtocol(options);
        registry.Register("ws", ws, "ws4", "ws6");
        registry.Register("ws4", ws);
        registry.Register("ws6", ws);
        var wsh = new WebSocketHybridProtocol(options);
        registry.Register("wsh", wsh, "tcp4", "tcp6", "ws4", "ws6");
        registry.Register("wsh4", wsh, "tcp4", "ws4");
        registry.Register("wsh6", wsh, "tcp6", "ws6");
        registry.RegisterUnknown("tcp", tcp);
        return registry;
    }

    /// <summary>Registers <paramref name="impl"/> under <paramref name="protocol"/>, replacing any previous registration.</summary>
    /// <param name="protocol">A non-empty name; use <see cref="RegisterUnknown"/> for the empty one.</param>
    /// <param name="impl">The implementation.</param>
    /// <param name="actualProtocols">The protocols the name stands for; none means just <paramref name="protocol"/>.</param>
    /// <returns>True when a previous registration was replaced.</returns>
    public bool Register(string protocol, IProtocol impl, params string[] actualProtocols)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        ArgumentNullException.ThrowIfNull(impl);
        ArgumentNullException.ThrowIfNull(actualProtocols);
        return Set(protocol, impl, actualProtocols.Length == 0 ? [protocol] : [.. actualProtocols]);
    }

    /// <summary>
    /// Makes <paramref name="impl"/> serve endpoints with no protocol, called with <paramref name="protocol"/> as the
    /// actual protocol and standing for the same actual protocols as <paramref name="protocol"/>'s registration.
    /// </summary>
    /// <returns>
    /// True when it replaced an earlier registration for endpoints with no protocol (Vanadium's
    /// <c>RegisterUnknownProtocol</c> answers the same), so a caller can tell it overrode a default.
    /// </returns>
    /// <exception cref="InvalidOperationException"><paramref name="protocol"/> is not registered.</exception>
    public bool RegisterUnknown(string protocol, IProtocol impl)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        ArgumentNullException.ThrowIfNull(impl);
        lock (_writeLock)
        {
            if (!_registrations.TryGetValue(protocol, out Registration? named))
            {
                throw new InvalidOperationException($"Protocol \"{protocol}\" must be registered before it can serve endpoints without a protocol.");
            }

            return Set(string.Empty, new UnknownProtocolAdapter(protocol, impl), named.ActualProtocols);
        }
    }

    /// <summary>Looks up a protocol; the empty name finds what <see cref="RegisterUnknown"/> registered.</summary>
    public bool TryGet(string protocol, [NotNullWhen(true)] out IProtocol? impl, out IReadOnlyList<string> actualProtocols)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        if (Volatile.Read(ref _registrations).TryGetValue(protocol, out Registration? registration))
        {
            impl = registration.Protocol;
            actualProtocols = registration.ActualProtocols;
            return true;
        }

        impl = null;
        actualProtocols = [];
        return false;
    }

    /// <summary>Looks up a protocol.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/> when nothing is registered under the name.</exception>
    public (IProtocol Protocol, IReadOnlyList<string> ActualProtocols) Get(string protocol)
    {
        return TryGet(protocol, out IProtocol? impl, out IReadOnlyList<string> actual)
            ? (impl, actual)
            : throw new FlowException(FlowErrorCode.BadArg, $"Unknown protocol \"{protocol}\"; registered: {string.Join(", ", RegisteredProtocols.Select(p => $"\"{p}\""))}.");
    }

    // Copy-on-write: registrations are rare, lookups happen on every dial and listen.
    private bool Set(string protocol, IProtocol impl, IReadOnlyList<string> actualProtocols)
    {
        lock (_writeLock)
        {
            var next = new Dictionary<string, Registration>(_registrations, StringComparer.Ordinal);
            bool replaced = next.ContainsKey(protocol);
            next[protocol] = new Registration(impl, actualProtocols);
            Volatile.Write(ref _registrations, next.ToFrozenDictionary(StringComparer.Ordinal));
            return replaced;
        }
    }

    private sealed record Registration(IProtocol Protocol, IReadOnlyList<string> ActualProtocols);
}
