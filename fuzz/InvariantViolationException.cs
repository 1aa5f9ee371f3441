namespace FlowOrleans.Fuzz;

/// <summary>A fuzz target's invariant failed: the code under test misbehaved on an input. Always a crash.</summary>
internal sealed class InvariantViolationException : Exception
{
    public InvariantViolationException()
    {
    }

    public InvariantViolationException(string message)
        : base(message)
    {
    }

    public InvariantViolationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
