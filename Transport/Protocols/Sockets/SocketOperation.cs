using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// A reusable <see cref="SocketAsyncEventArgs"/> that is awaited as a <see cref="ValueTask{Int32}"/>, so each send or
/// receive costs no allocation. One operation at a time. Completions run the continuation inline: on Unix the socket
/// engine already completes on the thread pool, and staying on that thread saves a hop per operation.
/// </summary>
internal abstract class SocketOperation : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _source;

    protected SocketOperation()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);

    /// <summary>Call before starting the socket operation.</summary>
    protected void Prepare() => _source.Reset();

    /// <summary>Turns the socket call's "pending" answer into the awaitable result.</summary>
    protected ValueTask<int> Await(bool pending)
    {
        if (pending)
        {
            return new ValueTask<int>(this, _source.Version);
        }

        return SocketError == SocketError.Success
            ? new ValueTask<int>(BytesTransferred)
            : ValueTask.FromException<int>(new SocketException((int)SocketError));
    }

    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        if (SocketError == SocketError.Success)
        {
            _source.SetResult(BytesTransferred);
        }
        else
        {
            _source.SetException(new SocketException((int)SocketError));
        }
    }
}
