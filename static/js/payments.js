// Pay page: the Pay button opens Razorpay Checkout (loaded from
// settings.RAZORPAY_CHECKOUT_JS before this module) for the order the page
// was rendered with. Razorpay's answer goes to the server in a plain form
// post; the server checks its signature and asks Razorpay before anything
// is marked paid. Without JavaScript the button stays hidden and a notice
// says why.
const button = document.querySelector("[data-razorpay-pay]");
const form = document.querySelector("[data-razorpay-return]");
const message = document.querySelector("[data-pay-message]");
const waiting = document.querySelector("[data-pay-waiting]");

const say = (text) => {
  if (!message) return;
  message.textContent = text;
  message.hidden = !text;
};

const ready = () => {
  button.disabled = false;
  if (waiting) waiting.hidden = true;
};

if (button && form) {
  button.hidden = false;
  button.addEventListener("click", () => {
    if (typeof window.Razorpay !== "function") {
      say("The payment window could not be loaded. Check your connection, then reload this page.");
      return;
    }
    const data = button.dataset;
    let failure = "";
    say("");
    button.disabled = true;
    if (waiting) waiting.hidden = false;
    const checkout = new window.Razorpay({
      key: data.key,
      order_id: data.orderId,
      amount: Number(data.amount),
      currency: data.currency,
      name: data.name,
      description: data.description,
      prefill: { name: data.prefillName, email: data.prefillEmail, contact: data.prefillContact },
      notes: { consultation_id: data.consultationId },
      theme: { color: "#0b6b5f" },
      handler: (response) => {
        // Razorpay's answer proves nothing until the server has checked it.
        form.elements.razorpay_payment_id.value = response.razorpay_payment_id || "";
        form.elements.razorpay_order_id.value = response.razorpay_order_id || "";
        form.elements.razorpay_signature.value = response.razorpay_signature || "";
        if (waiting) {
          waiting.textContent = "Confirming your payment…";
          waiting.hidden = false;
        }
        form.submit();
      },
      modal: {
        ondismiss: () => {
          ready();
          say(failure || "The payment window was closed before paying. Nothing was charged; press Pay to try again.");
        },
      },
    });
    checkout.on("payment.failed", (response) => {
      const reason = (response && response.error && response.error.description) || "The payment did not go through.";
      failure = `Payment failed: ${reason} You have not been charged. You can try again.`;
      ready();
      say(failure);
    });
    checkout.open();
  });
}
