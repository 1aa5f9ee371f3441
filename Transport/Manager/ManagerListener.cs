using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Transport.Manager;

/// <summary>One address (or proxy registration) a manager accepts on.</summary>
internal sealed class ManagerListener(IReadOnlyList<Endpoint> endpoints, string protocol, string address) : IFlowListener
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Endpoint Endpoint => Endpoints[0];

    public IReadOnlyList<Endpoint> Endpoints { get; } = endpoints;

    public string Protocol { get; } = protocol;

    public string Address { get; } = address;

    public Task Completion => _completion.Task;

    public CancellationTokenSource Stop { get; } = new();

    public void Complete(Exception? error)
    {
        if (error is null)
        {
            _completion.TrySetResult();
        }
        else
        {
            _completion.TrySetException(error);
        }
    }
}
