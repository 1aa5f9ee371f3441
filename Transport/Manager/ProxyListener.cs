using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// A manager's registration with a proxy, under a name. Its endpoints are the ones the proxy published at the last
/// successful registration, and none while it is not registered.
/// </summary>
internal sealed class ProxyListener(string name, Endpoint proxy, Endpoint initial) : IFlowListener
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Endpoint _endpoint = initial;
    private IReadOnlyList<Endpoint> _published = [];

    public string Name { get; } = name;

    /// <summary>The proxy registered with.</summary>
    public Endpoint Proxy { get; } = proxy;

    /// <summary>The first endpoint published by the proxy at the last registration (the proxy's own before that).</summary>
    public Endpoint Endpoint => Volatile.Read(ref _endpoint);

    /// <summary>Endpoints the proxy serves this manager at now; empty while not registered.</summary>
    public IReadOnlyList<Endpoint> Published => Volatile.Read(ref _published);

    public IReadOnlyList<Endpoint> Endpoints => Published;

    public Task Completion => _completion.Task;

    public CancellationTokenSource Stop { get; } = new();

    public void SetPublished(IReadOnlyList<Endpoint> endpoints)
    {
        if (endpoints.Count > 0)
        {
            Volatile.Write(ref _endpoint, endpoints[0]);
        }

        Volatile.Write(ref _published, endpoints);
    }

    public void Complete() => _completion.TrySetResult();
}
